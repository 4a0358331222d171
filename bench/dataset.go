package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// dataset is one generated, deterministic set of relays, pairs and queries,
// with the files each server loads.
type dataset struct {
	// listed are the relay addresses every server lists.
	listed []ip4
	// unlisted are addresses no server lists.
	unlisted []ip4

	// Files, all in the dataset directory.
	rbldnsd       string // rbldnsd ip4set data
	nsdZone       string // NSD zone file
	wlnsImport    string // NDJSON for `wlns import`
	relayQueries  string // dnsperf input, relay zone (all servers)
	senderQueries string // dnsperf input, sender zone (wlns only)
}

// ip4 is an IPv4 address as four octets.
type ip4 [4]byte

// rev is the reversed dotted form used in query names.
func (a ip4) rev() string { return fmt.Sprintf("%d.%d.%d.%d", a[3], a[2], a[1], a[0]) }

// String is the dotted-quad form.
func (a ip4) String() string { return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]) }

// sender is the envelope sender paired with the i-th listed relay.
func sender(i int) string { return fmt.Sprintf("user%d@example%d.com", i, i%5000) }

// senderName is the readable sender-zone label form of sender(i).
func senderName(i int) string { return fmt.Sprintf("user%d.example%d.com", i, i%5000) }

// unknownSenderName is a sender no relay has, for negative sender queries.
func unknownSenderName(i int) string { return fmt.Sprintf("nobody%d.example%d.net", i, i%5000) }

// generateAddrs draws n listed and n/4 unlisted distinct public-looking IPv4
// addresses from a seeded generator, so every run and every server sees the
// same data.
func generateAddrs(n int, seed uint64) (listed, unlisted []ip4) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := make(map[ip4]struct{}, n+n/4)
	draw := func() ip4 {
		for {
			v := rng.Uint32()
			a := ip4{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
			if a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 {
				continue
			}
			if _, dup := seen[a]; dup {
				continue
			}
			seen[a] = struct{}{}
			return a
		}
	}
	listed = make([]ip4, n)
	for i := range listed {
		listed[i] = draw()
	}
	unlisted = make([]ip4, max(n/4, 1))
	for i := range unlisted {
		unlisted[i] = draw()
	}
	return listed, unlisted
}

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
	d.listed, d.unlisted = generateAddrs(c.N, c.Seed)
	writers := []struct {
		path string
		fn   func(*bufio.Writer) error
	}{
		{d.rbldnsd, func(w *bufio.Writer) error { return writeRbldnsd(w, d, c.Zone) }},
		{d.nsdZone, func(w *bufio.Writer) error { return writeNSDZone(w, d, c.Zone) }},
		{d.wlnsImport, func(w *bufio.Writer) error { return writeWlnsImport(w, d) }},
		{d.relayQueries, func(w *bufio.Writer) error { return writeRelayQueries(w, d, c) }},
		{d.senderQueries, func(w *bufio.Writer) error { return writeSenderQueries(w, d, c) }},
	}
	for _, wr := range writers {
		if err := writeFile(wr.path, wr.fn); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// writeFile creates path (world-readable: rbldnsd drops root before it
// reads) and fills it through a buffered writer.
func writeFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	return nil
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
		var a ip4
		if k >= 0 {
			a = d.listed[k]
		} else {
			a = d.unlisted[-1-k]
		}
		if _, err := fmt.Fprintf(w, "%s.relay.%s A\n", a.rev(), c.Zone); err != nil {
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
			name = senderName(k) + "." + d.listed[k].rev()
		} else {
			name = unknownSenderName(i) + "." + d.listed[i%len(d.listed)].rev()
		}
		if _, err := fmt.Fprintf(w, "%s.sender.%s A\n", name, c.Zone); err != nil {
			return err
		}
	}
	return nil
}
