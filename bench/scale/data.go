package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/wlns/wlns/bench/internal/kit"
)

// The A codes wlns answers with (docs/mta.md).
const (
	codeRelay  = kit.RelayCode // registered relay or group member
	codeSender = "127.0.2.2"   // sender address verified through the relay
	codeDomain = "127.0.2.3"   // whole sender domain verified through it
	codeVerp   = "127.0.2.4"   // VERP list server for the domain
)

// Record kinds the driver generates; the salt makes each kind's stream of
// random numbers independent of the others.
const (
	saltPair   = 0x70616972
	saltDomain = 0x646f6d61
	saltVerp   = 0x76657270
	saltGroup  = 0x67726f75
	saltQuery  = 0x71756572
)

// tlds are the top-level parts of generated domains, most frequent first.
var tlds = []string{"com", "com", "com", "com", "net", "org", "de", "co.uk", "fr", "nl", "edu", "io", "jp", "ru", "com.br", "info"}

// dataset is the seeded whitelist a run loads: every record is a pure
// function of the seed and its number, so nothing but the relay addresses
// (which the rbldnsd file needs anyway) and the groups' prefixes is held in
// memory, and any record can be regenerated to ask for it.
type dataset struct {
	c        config
	relays   []kit.IP4 // registered single relays, as in `make bench`
	unlisted []kit.IP4 // addresses nobody lists
	groups   [][]prefix
}

// prefix is a group member: 10.x.y.z/bits.
type prefix struct {
	base uint32
	bits int
}

func (p prefix) String() string { return ip(p.base).String() + fmt.Sprintf("/%d", p.bits) }

// addr is the i-th address inside p (modulo its size).
func (p prefix) addr(i int) kit.IP4 { return ip(p.base + uint32(i)%(1<<(32-p.bits))) }

func ip(v uint32) kit.IP4 { return kit.IP4{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// newDataset draws the relays and lays out the groups.
func newDataset(c config) *dataset {
	d := &dataset{c: c}
	d.relays, d.unlisted = kit.GenerateAddrs(c.relays, c.seed)
	// Groups live in 10.0.0.0/8, which GenerateAddrs never draws: each
	// member takes the next /26 slot and is a /26 to /29 at its start.
	slot := uint32(0)
	d.groups = make([][]prefix, c.groups)
	for g := range d.groups {
		r := rng(c.seed, saltGroup, g)
		members := make([]prefix, 1+r.IntN(4))
		for m := range members {
			members[m] = prefix{base: 10<<24 | slot<<6, bits: 26 + r.IntN(4)}
			slot++
		}
		d.groups[g] = members
	}
	return d
}

// rng is the generator of record i of a kind.
func rng(seed, salt uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^salt, uint64(i)))
}

// pair is one generated sender/relay pair.
type pair struct {
	sender string  // address, or a domain for a domain pair
	domain bool    // sender is a whole domain
	ip     kit.IP4 // the relay or group member it is written and asked through
	group  int     // the group, or -1 for a single relay
}

// entity picks the relay or group a pair or VERP source goes through.
func (d *dataset) entity(r *rand.Rand) (kit.IP4, int) {
	if len(d.groups) > 0 && r.Float64() < d.c.groupShare {
		g := r.IntN(len(d.groups))
		m := d.groups[g][r.IntN(len(d.groups[g]))]
		return m.addr(r.IntN(1 << 8)), g
	}
	return d.relays[r.IntN(len(d.relays))], -1
}

// domainName is domain k: a 4–15 character label and a TLD.
func (d *dataset) domainName(k int) string {
	r := rng(d.c.seed, saltDomain, k)
	return randLabel(r, 4+r.IntN(12), false) + "." + tlds[r.IntN(len(tlds))]
}

// pair generates pair i (i ≥ c.pairs are the streaming phase's new pairs).
// The local part is 5–20 characters, triangular around 12, a quarter of
// them first.last style with one dot; the domain is drawn Zipf-skewed
// (s = 1.1) from c.domains.
func (d *dataset) pair(i int) pair {
	r := rng(d.c.seed, saltPair, i)
	p := pair{}
	p.ip, p.group = d.entity(r)
	dom := d.domainName(int(rand.NewZipf(r, 1.1, 1, uint64(d.c.domains-1)).Uint64()))
	if r.Float64() < d.c.domainShare {
		p.sender, p.domain = dom, true
		return p
	}
	n := 5 + (r.IntN(16)+r.IntN(16))/2
	p.sender = randLabel(r, n, r.IntN(4) == 0) + "@" + dom
	return p
}

// randLabel is n characters of [a-z0-9], starting with a letter, with one
// dot inside when dotted.
func randLabel(r *rand.Rand, n int, dotted bool) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	b[0] = chars[r.IntN(26)]
	if dotted && n >= 5 {
		b[2+r.IntN(n-4)] = '.'
	}
	return string(b)
}

// verp generates VERP source v: a list domain through a relay or group.
func (d *dataset) verp(v int) (domain string, a kit.IP4) {
	r := rng(d.c.seed, saltVerp, v)
	a, _ = d.entity(r)
	return "lists." + d.domainName(r.IntN(d.c.domains)), a
}

// senderQName is the sender-zone name asking for pair p through its IP,
// in DNS mailbox form (dots in the local part escaped); a domain pair is
// asked with a local part the generator never makes.
func (d *dataset) senderQName(p pair, i int) string {
	local, dom, _ := strings.Cut(p.sender, "@")
	if p.domain {
		local, dom = fmt.Sprintf("probe_%d", i), p.sender
	}
	return strings.ReplaceAll(local, ".", `\.`) + "." + dom + "." + p.ip.Rev() + ".sender." + d.c.apex
}

// writeImport writes the NDJSON for `wlns import`: groups, relays, the
// pairs [from, to) and, when verps, every VERP source.
func (d *dataset) writeImport(w *bufio.Writer, from, to int, verps bool) error {
	if from == 0 {
		for g, ms := range d.groups {
			members := make([]string, len(ms))
			for m, p := range ms {
				members[m] = `"` + p.String() + `"`
			}
			fmt.Fprintf(w, `{"kind":"group","name":"bench-g%d","members":[%s],"contact":"postmaster@g%d.bench.invalid","registered":true}`+"\n",
				g, strings.Join(members, ","), g)
		}
		for _, a := range d.relays {
			fmt.Fprintf(w, `{"kind":"relay","ip":"%s","contact":"postmaster@bench.invalid"}`+"\n", a)
		}
	}
	for i := from; i < to; i++ {
		p := d.pair(i)
		if _, err := fmt.Fprintf(w, `{"kind":"pair","sender":"%s","ip":"%s"}`+"\n", p.sender, p.ip); err != nil {
			return err
		}
	}
	if verps {
		for v := range d.c.verps {
			dom, a := d.verp(v)
			fmt.Fprintf(w, `{"kind":"verp","domain":"%s","ip":"%s"}`+"\n", dom, a)
		}
	}
	return nil
}

// importLines is how many records writeImport(0, pairs, true) writes.
func (d *dataset) importLines() int {
	return len(d.groups) + len(d.relays) + d.c.pairs + d.c.verps
}

// writeRelayQueries is the relay-zone dnsperf input every server gets:
// 80% registered relays, 20% unlisted addresses, shuffled.
func (d *dataset) writeRelayQueries(w *bufio.Writer) error {
	r := rng(d.c.seed, saltQuery, 1)
	for i := range d.c.queries {
		a := d.relays[r.IntN(len(d.relays))]
		if i%5 == 4 {
			a = d.unlisted[r.IntN(len(d.unlisted))]
		}
		if _, err := fmt.Fprintf(w, "%s.relay.%s A\n", a.Rev(), d.c.apex); err != nil {
			return err
		}
	}
	return nil
}

// writeSenderQueries is the sender-zone dnsperf input: 80% listed pairs
// (addresses and domains, through their relay or group), 20% unknown
// senders at a registered relay (NODATA).
func (d *dataset) writeSenderQueries(w *bufio.Writer) error {
	r := rng(d.c.seed, saltQuery, 2)
	for i := range d.c.queries {
		var name string
		if i%5 == 4 {
			a := d.relays[r.IntN(len(d.relays))]
			name = fmt.Sprintf("nobody%d.unknown%d.example.%s.sender.%s", i, i%977, a.Rev(), d.c.apex)
		} else {
			k := r.IntN(d.c.pairs)
			name = d.senderQName(d.pair(k), k)
		}
		if _, err := fmt.Fprintf(w, "%s A\n", name); err != nil {
			return err
		}
	}
	return nil
}
