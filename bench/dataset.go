package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"github.com/wlns/wlns/bench/internal/kit"
)

// dataset is one generated, deterministic set of relays, pairs and queries,
// with the files each server loads.
type dataset struct {
	// listed are the relay addresses every server lists.
	listed []kit.IP4
	// unlisted are addresses no server lists.
	unlisted []kit.IP4

	// Files, all in the dataset directory.
	rbldnsd       string // rbldnsd ip4set data
	nsdZone       string // NSD zone file
	wlnsImport    string // NDJSON for `wlns import`
	relayQueries  string // dnsperf input, relay zone (all servers)
	senderQueries string // dnsperf input, sender zone (wlns only)
}

// sender is the envelope sender paired with the i-th listed relay.
func sender(i int) string { return fmt.Sprintf("user%d@example%d.com", i, i%5000) }

// senderName is the readable sender-zone label form of sender(i).
func senderName(i int) string { return fmt.Sprintf("user%d.example%d.com", i, i%5000) }

// unknownSenderName is a sender no relay has, for negative sender queries.
func unknownSenderName(i int) string { return fmt.Sprintf("nobody%d.example%d.net", i, i%5000) }

// buildDataset generates the addresses and writes every server's files into
// dir.
func buildDataset(c config, dir string) (*dataset, error) {
	d := &dataset{
		rbldnsd:       filepath.Join(dir, "relays.ip4set"),
		nsdZone:       filepath.Join(dir, "relay.zone"),
		wlnsImport:    filepath.Join(dir, "wlns-import.ndjson"),
		relayQueries:  filepath.Join(dir, "queries-relay.txt"),
		senderQueries: filepath.Join(dir, "queries-sender.txt"),
	}
	d.listed, d.unlisted = kit.GenerateAddrs(c.N, c.Seed)
	writers := []struct {
		path string
		fn   func(*bufio.Writer) error
	}{
		{d.rbldnsd, func(w *bufio.Writer) error { return kit.WriteRbldnsd(w, d.listed, c.Zone) }},
		{d.nsdZone, func(w *bufio.Writer) error { return writeNSDZone(w, d, c.Zone) }},
		{d.wlnsImport, func(w *bufio.Writer) error { return writeWlnsImport(w, d) }},
		{d.relayQueries, func(w *bufio.Writer) error { return writeRelayQueries(w, d, c) }},
		{d.senderQueries, func(w *bufio.Writer) error { return writeSenderQueries(w, d, c) }},
	}
	for _, wr := range writers {
		if err := kit.WriteFile(wr.path, wr.fn); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// queryMix returns, for q query lines, which are listed (index into listed)
// and which unlisted (negative index -1-j into unlisted): 80% listed, 20%
// unlisted, shuffled with the dataset's seed.
func queryMix(c config, nListed, nUnlisted int) []int {
	rng := rand.New(rand.NewPCG(c.Seed+1, c.Seed^0x5bd1e995))
	out := make([]int, c.Queries)
	hits := c.Queries * 4 / 5
	for i := range out {
		if i < hits {
			out[i] = rng.IntN(nListed)
		} else {
			out[i] = -1 - rng.IntN(nUnlisted)
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func writeRelayQueries(w *bufio.Writer, d *dataset, c config) error {
	for _, k := range queryMix(c, len(d.listed), len(d.unlisted)) {
		var a kit.IP4
		if k >= 0 {
			a = d.listed[k]
		} else {
			a = d.unlisted[-1-k]
		}
		if _, err := fmt.Fprintf(w, "%s.relay.%s A\n", a.Rev(), c.Zone); err != nil {
			return err
		}
	}
	return nil
}

// writeSenderQueries asks, 80%, for a listed sender through its relay, and
// 20% for an unknown sender through a listed relay (NODATA: the relay exists
// and its entity is searched).
func writeSenderQueries(w *bufio.Writer, d *dataset, c config) error {
	for i, k := range queryMix(c, len(d.listed), len(d.unlisted)) {
		var name string
		if k >= 0 {
			name = senderName(k) + "." + d.listed[k].Rev()
		} else {
			name = unknownSenderName(i) + "." + d.listed[i%len(d.listed)].Rev()
		}
		if _, err := fmt.Fprintf(w, "%s.sender.%s A\n", name, c.Zone); err != nil {
			return err
		}
	}
	return nil
}
