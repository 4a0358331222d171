package zone

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

const pmKey = "pm-umkc."
const pmSecret = "cG9zdG1hc3Rlci1vZi11bWtjLWtleS1zZWNyZXQ="

// delegate adds a delegation of p to one name server, ns, at 10.0.0.53.
func delegate(t *testing.T, ix *index.Index, p, ns string, serial uint32) {
	t.Helper()
	tx := ix.Begin()
	if err := tx.PutDelegation(&record.Delegation{Prefix: netip.MustParsePrefix(p), NS: []record.NameServer{
		{Name: ns, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.53")}},
	}}); err != nil {
		t.Fatal(err)
	}
	tx.SetZoneSerial(serial)
	tx.Commit()
}

// TestXFR_CutZonesForAScopedKey: a postmaster's key scoped to 192.0.2.0/24
// transfers the three cut zones of that delegation, with Export's records
// and the zone serial, and is refused the whole trees, the apex and another
// delegation's cut; the operator's key takes the cut zones too.
func TestXFR_CutZonesForAScopedKey(t *testing.T) {
	ix := fixture(t)
	delegate(t, ix, "192.0.2.0/24", "ns1.2.0.192.relay.wl.example.org", 50)
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 4, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.5/32")}})
	tx.Commit()
	delegate(t, ix, "203.0.113.0/24", "ns.pm.example", 51)
	x := startXFR(t, ix, func(c *XFRConfig) {
		c.Keys[pmKey] = pmSecret
		c.Scopes = map[string][]netip.Prefix{pmKey: {netip.MustParsePrefix("192.0.2.0/24")}}
	})
	cases := []struct {
		zone, key, secret string
		want              string // a record the transfer holds; "" refused
	}{
		{"2.0.192.relay.wl.example.org.", pmKey, pmSecret, "4.2.0.192.relay.wl.example.org.\t300\tIN\tA\t127.0.2.1"},
		{"2.0.192.sender.wl.example.org.", pmKey, pmSecret, "dave.umkc.edu.4.2.0.192.sender.wl.example.org.\t300\tIN\tA\t127.0.2.2"},
		{"2.0.192.verp.wl.example.org.", pmKey, pmSecret, "lists.example.net.4.2.0.192.verp.wl.example.org.\t300\tIN\tA\t127.0.2.4"},
		{"2.0.192.relay.wl.example.org.", testKey, testSecret, "ns1.2.0.192.relay.wl.example.org.\t300\tIN\tA\t10.0.0.53"},
		{"113.0.203.relay.wl.example.org.", testKey, testSecret, "5.113.0.203.relay.wl.example.org.\t300\tIN\tA\t127.0.2.1"},
		{"113.0.203.relay.wl.example.org.", pmKey, pmSecret, ""},
		{"relay.wl.example.org.", pmKey, pmSecret, ""},
		{"wl.example.org.", pmKey, pmSecret, ""},
		{"3.0.192.relay.wl.example.org.", testKey, testSecret, ""}, // no delegation
	}
	for _, c := range cases {
		rrs, err := transfer(t, x, c.zone, dns.TypeAXFR, 0, c.key, c.secret)
		if c.want == "" {
			if err == nil && len(rrs) > 0 {
				t.Errorf("%s with %s: transferred %d records, want refused", c.zone, c.key, len(rrs))
			}
			continue
		}
		if err != nil || len(rrs) < 3 {
			t.Fatalf("%s with %s: %d records, %v", c.zone, c.key, len(rrs), err)
		}
		soa, ok := rrs[0].(*dns.SOA)
		if !ok || soa.Serial != 51 || !strings.EqualFold(soa.Hdr.Name, c.zone) || rrs[len(rrs)-1].String() != soa.String() {
			t.Errorf("%s: first and last records %v … %v, want its SOA at serial 51", c.zone, rrs[0], rrs[len(rrs)-1])
		}
		found := false
		for _, rr := range rrs {
			found = found || rr.String() == c.want
		}
		if !found {
			t.Errorf("%s with %s lacks %q:\n%v", c.zone, c.key, c.want, rrs)
		}
	}
	// IXFR from the current serial is the SOA alone.
	if rrs, err := transfer(t, x, "2.0.192.relay.wl.example.org.", dns.TypeIXFR, 51, pmKey, pmSecret); err != nil || len(rrs) != 1 {
		t.Errorf("IXFR from the current serial: %v %v", rrs, err)
	}
}

// notifySink is a postmaster's server that knows keys: it reports each
// NOTIFY as "zone key serial", key being "unsigned" or "bad" when the
// signature does not verify.
func notifySink(t *testing.T, keys map[string]string) (string, <-chan string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 64)
	srv := &dns.Server{PacketConn: pc, TsigSecret: keys,
		Handler: dns.HandlerFunc(func(w dns.ResponseWriter, m *dns.Msg) {
			status := "unsigned"
			if m.IsTsig() != nil {
				status = m.IsTsig().Hdr.Name
				if w.TsigStatus() != nil {
					status = "bad"
				}
			}
			serial := uint32(0)
			if len(m.Answer) > 0 {
				serial = m.Answer[0].(*dns.SOA).Serial
			}
			select {
			case got <- fmt.Sprintf("%s %s %d", m.Question[0].Name, status, serial):
			default:
			}
			r := new(dns.Msg)
			r.SetReply(m)
			_ = w.WriteMsg(r)
		})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String(), got
}

// TestXFR_CutNotifySignedWithThePostmastersOwnKey: of two scoped keys
// holding a delegation (a wide one and the postmaster's own), the NOTIFY
// to that postmaster's server is signed with its own, the narrowest
// holding its prefix; a server whose prefix no scoped key holds gets it
// unsigned, never signed with the operator's key.
func TestXFR_CutNotifySignedWithThePostmastersOwnKey(t *testing.T) {
	ix := fixture(t)
	delegate(t, ix, "192.0.2.0/24", "ns1.2.0.192.relay.wl.example.org", 50)
	const wideKey = "aa-wide."
	own, ownGot := notifySink(t, map[string]string{pmKey: pmSecret})
	other, otherGot := notifySink(t, map[string]string{})
	startXFR(t, ix, func(c *XFRConfig) {
		c.Keys[pmKey] = pmSecret
		c.Keys[wideKey] = pmSecret
		c.Scopes = map[string][]netip.Prefix{pmKey: {netip.MustParsePrefix("192.0.2.0/24")}, wideKey: {netip.MustParsePrefix("192.0.0.0/16")}}
		c.NotifyCuts = []CutNotify{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Target: own}, {Prefix: netip.MustParsePrefix("192.0.0.0/8"), Target: other}}
	})
	tx := ix.Begin()
	tx.SetZoneSerial(60)
	tx.Commit()
	for _, c := range []struct {
		got  <-chan string
		want string
	}{{ownGot, pmKey}, {otherGot, "unsigned"}} {
		select {
		case m := <-c.got:
			if f := strings.Fields(m); len(f) != 3 || f[1] != c.want {
				t.Errorf("NOTIFY %q, want one signed %s", m, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no NOTIFY, want one signed %s", c.want)
		}
	}
}

// TestXFR_CutZonesNotifyThePostmaster: the cut zones of the delegation
// inside the configured prefix are NOTIFYed, signed with the postmaster's
// scoped key, when their records change: a change elsewhere keeps their
// serial and sends nothing, a pair added inside moves the sender cut alone.
func TestXFR_CutZonesNotifyThePostmaster(t *testing.T) {
	ix := fixture(t)
	delegate(t, ix, "192.0.2.0/24", "ns1.2.0.192.relay.wl.example.org", 50)
	target, got := notifySink(t, map[string]string{pmKey: pmSecret})
	x := startXFR(t, ix, func(c *XFRConfig) {
		c.Keys[pmKey] = pmSecret
		c.Scopes = map[string][]netip.Prefix{pmKey: {netip.MustParsePrefix("192.0.2.0/24")}}
		c.NotifyCuts = []CutNotify{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Target: target}}
	})
	tx := ix.Begin()
	tx.SetZoneSerial(60)
	tx.Commit()
	seen := map[string]bool{}
	// next is the next NOTIFY not seen before (a retry repeats one), or ""
	// when none comes within d.
	next := func(d time.Duration) string {
		deadline := time.After(d)
		for {
			select {
			case m := <-got:
				if !seen[m] {
					seen[m] = true
					return m
				}
			case <-deadline:
				return ""
			}
		}
	}
	for range 3 {
		if next(10*time.Second) == "" {
			t.Fatalf("NOTIFYs received: %v", seen)
		}
	}
	for _, tree := range []string{"relay", "sender", "verp"} {
		if want := "2.0.192." + tree + ".wl.example.org. " + pmKey + " 60"; !seen[want] {
			t.Errorf("no %q among %v", want, seen)
		}
	}

	// A change outside the prefix keeps the cut zones' serial: no NOTIFY.
	tx = ix.Begin()
	tx.PutEntity(&record.Entity{ID: 9, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.77/32")}})
	tx.SetZoneSerial(61)
	tx.Commit()
	if m := next(time.Second); m != "" {
		t.Errorf("NOTIFY after a change outside the prefix: %s", m)
	}
	if rrs, err := transfer(t, x, "2.0.192.sender.wl.example.org.", dns.TypeAXFR, 0, pmKey, pmSecret); err != nil || len(rrs) == 0 || rrs[0].(*dns.SOA).Serial != 60 {
		t.Errorf("cut zone after a change outside it: %v %v, want serial 60", rrs, err)
	}
	// A pair added inside: the sender cut alone moves, and is notified.
	tx = ix.Begin()
	tx.PutPair(&record.Pair{Entity: 1, Sender: "eve@umkc.edu"})
	tx.SetZoneSerial(62)
	tx.Commit()
	want := "2.0.192.sender.wl.example.org. " + pmKey + " 62"
	if m := next(15 * time.Second); m != want { // a cut zone is written out at most once per 10 builds' time
		t.Fatalf("NOTIFY after a pair added inside: %q, want %q", m, want)
	}
	if m := next(500 * time.Millisecond); m != "" {
		t.Errorf("a second NOTIFY for one change: %s", m)
	}
}

// TestXFR_CutCopiesOfADeletedDelegationAreDropped: the copy of a cut zone
// goes once its delegation is deleted (each holds the whole cut zone, and
// a deleted delegation's was kept for the life of the node).
func TestXFR_CutCopiesOfADeletedDelegationAreDropped(t *testing.T) {
	ix := fixture(t)
	delegate(t, ix, "192.0.2.0/24", "ns1.2.0.192.relay.wl.example.org", 50)
	delegate(t, ix, "203.0.113.0/24", "ns.pm.example", 51)
	x := startXFR(t, ix, nil)
	for _, zone := range []string{"2.0.192.relay.wl.example.org.", "113.0.203.relay.wl.example.org."} {
		if rrs, err := transfer(t, x, zone, dns.TypeAXFR, 0, testKey, testSecret); err != nil || len(rrs) == 0 {
			t.Fatalf("%s: %v", zone, err)
		}
	}
	tx := ix.Begin()
	tx.DeleteDelegation(netip.MustParsePrefix("192.0.2.0/24"))
	tx.PutEntity(&record.Entity{ID: 9, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("203.0.113.7/32")}})
	tx.SetZoneSerial(52)
	tx.Commit()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := transfer(t, x, "113.0.203.relay.wl.example.org.", dns.TypeAXFR, 0, testKey, testSecret); err != nil {
			t.Fatal(err)
		}
		x.cuts.mu.Lock()
		_, kept := x.cuts.copies["2.0.192.relay.wl.example.org."]
		n := len(x.cuts.copies)
		x.cuts.mu.Unlock()
		if !kept && n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("copies of %d cut zones, the deleted delegation's kept %v; want the other's alone", n, kept)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestXFR_CutNotifyForgetsADeletedDelegation: what the NOTIFY sender
// keeps per postmaster's server and cut zone (the serial last notified)
// goes with the delegation: it was kept for the life of the node, three
// entries per delegation ever made inside a notified prefix.
func TestXFR_CutNotifyForgetsADeletedDelegation(t *testing.T) {
	ix := fixture(t)
	delegate(t, ix, "192.0.2.0/24", "ns1.2.0.192.relay.wl.example.org", 50)
	delegate(t, ix, "192.0.3.0/24", "ns1.3.0.192.relay.wl.example.org", 51)
	target, got := notifySink(t, map[string]string{})
	x := startXFR(t, ix, func(c *XFRConfig) {
		c.NotifyCuts = []CutNotify{{Prefix: netip.MustParsePrefix("192.0.0.0/16"), Target: target}}
	})
	// notified waits for a NOTIFY of zone at serial, then for the round
	// that sent it to end, and returns how many cut zones the sender keeps.
	notified := func(zone string, serial uint32) int {
		t.Helper()
		want := fmt.Sprintf("%s unsigned %d", zone, serial)
		for deadline := time.After(15 * time.Second); ; {
			select {
			case m := <-got:
				if m != want {
					continue
				}
			case <-deadline:
				t.Fatalf("no NOTIFY %q", want)
			}
			break
		}
		for {
			x.notify.mu.Lock()
			running := x.notify.running
			x.notify.mu.Unlock()
			if !running {
				return len(x.notify.sent)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	tx := ix.Begin()
	tx.SetZoneSerial(60)
	tx.Commit()
	if n := notified("3.0.192.verp.wl.example.org.", 60); n != 6 {
		t.Fatalf("%d cut zones kept for two delegations, want 6", n)
	}
	tx = ix.Begin()
	tx.DeleteDelegation(netip.MustParsePrefix("192.0.2.0/24"))
	tx.PutEntity(&record.Entity{ID: 9, Registered: true, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.3.7/32")}})
	tx.SetZoneSerial(61)
	tx.Commit()
	if n := notified("3.0.192.relay.wl.example.org.", 61); n != 3 {
		t.Errorf("%d cut zones kept after one of two delegations was deleted, want 3", n)
	}
}

// watchWrites wraps x's cut write-outs: each is counted, and one of a
// zone in hold waits until hold[zone] is closed, after saying so on
// started. requestEvery, when not 0, replaces cutRequestEvery.
func watchWrites(x *XFR, hold map[string]chan struct{}, started chan<- string, requestEvery time.Duration) *atomic.Int32 {
	var n atomic.Int32
	x.cuts.mu.Lock()
	defer x.cuts.mu.Unlock()
	x.cuts.requestEvery = requestEvery
	x.cuts.write = func(v *index.View, d *record.Delegation, tree, origin string) (*cutCopy, error) {
		n.Add(1)
		if c, ok := hold[origin]; ok {
			started <- origin
			<-c
		}
		return x.writeCut(v, d, tree, origin)
	}
	return &n
}

// ageCopies makes every cut zone's copy a second old and quick to write
// out, past cutEvery (the transfer interval, 50 ms; the sender cut's
// first write-out takes a second under -race, and cutEvery ten times
// that), within cutRequestEvery.
func ageCopies(x *XFR) {
	x.cuts.mu.Lock()
	defer x.cuts.mu.Unlock()
	for _, c := range x.cuts.copies {
		c.built, c.took = time.Now().Add(-time.Second), 0
	}
}

// moveSerial commits a change outside every delegation at serial.
func moveSerial(ix *index.Index, serial uint32) {
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 100 + uint64(serial), Registered: true,
		Prefixes: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(serial)}), 32)}})
	tx.SetZoneSerial(serial)
	tx.Commit()
}

// TestXFR_ASlowCutWriteOutDelaysNoOtherCut: while one cut zone is being
// written out, another cut's transfer is answered (the cache's lock was
// held for the write: a slow write-out stopped every cut's transfers),
// and so is its own, from the copy before.
func TestXFR_ASlowCutWriteOutDelaysNoOtherCut(t *testing.T) {
	ix := fixture(t)
	delegate(t, ix, "192.0.2.0/24", "ns1.2.0.192.relay.wl.example.org", 50)
	delegate(t, ix, "203.0.113.0/24", "ns.pm.example", 51)
	x := startXFR(t, ix, nil)
	const slow, other = "2.0.192.sender.wl.example.org.", "113.0.203.relay.wl.example.org."
	for _, zone := range []string{slow, other} {
		if rrs, err := transfer(t, x, zone, dns.TypeAXFR, 0, testKey, testSecret); err != nil || len(rrs) == 0 {
			t.Fatalf("%s: %v", zone, err)
		}
	}
	release, started := make(chan struct{}), make(chan string, 1)
	defer close(release)
	watchWrites(x, map[string]chan struct{}{slow: release}, started, time.Millisecond)
	moveSerial(ix, 52)
	ageCopies(x)
	go func() { _, _ = transfer(t, x, slow, dns.TypeAXFR, 0, testKey, testSecret) }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow cut was not written out again")
	}
	for _, zone := range []string{other, slow} {
		done := make(chan error, 1)
		go func() {
			rrs, err := transfer(t, x, zone, dns.TypeAXFR, 0, testKey, testSecret)
			if err == nil && len(rrs) == 0 {
				err = fmt.Errorf("no records")
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s during the slow write-out: %v", zone, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s not transferred while %s is being written out", zone, slow)
		}
	}
}

// TestXFR_TransferRequestsDoNotRewriteACut: a client asking for a cut
// zone without pause, while the whitelist changes elsewhere, gets the
// copy it has and no write-out (each request past cutEvery wrote the cut
// out again: 0.17–0.29 s at 1M pairs); past
// cutRequestEvery a request does have it written out again, so a change
// inside still reaches a secondary that polls without NOTIFY.
func TestXFR_TransferRequestsDoNotRewriteACut(t *testing.T) {
	ix := fixture(t)
	delegate(t, ix, "192.0.2.0/24", "ns1.2.0.192.relay.wl.example.org", 50)
	x := startXFR(t, ix, func(c *XFRConfig) {
		c.Keys[pmKey] = pmSecret
		c.Scopes = map[string][]netip.Prefix{pmKey: {netip.MustParsePrefix("192.0.2.0/24")}}
	})
	const zone = "2.0.192.sender.wl.example.org."
	ask := func() uint32 {
		t.Helper()
		rrs, err := transfer(t, x, zone, dns.TypeAXFR, 0, pmKey, pmSecret)
		if err != nil || len(rrs) == 0 {
			t.Fatalf("%s: %d records, %v", zone, len(rrs), err)
		}
		return rrs[0].(*dns.SOA).Serial
	}
	ask()
	writes := watchWrites(x, nil, nil, 0)
	for i := range uint32(10) {
		moveSerial(ix, 60+i)
		ageCopies(x)
		if s := ask(); s != 50 {
			t.Fatalf("serial %d after changes outside the cut, want 50", s)
		}
	}
	if n := writes.Load(); n != 0 {
		t.Errorf("%d write-outs for 10 requests as the serial moved elsewhere, want 0", n)
	}
	tx := ix.Begin()
	tx.PutPair(&record.Pair{Entity: 1, Sender: "eve@umkc.edu"})
	tx.SetZoneSerial(80)
	tx.Commit()
	watchWrites(x, nil, nil, time.Millisecond)
	ageCopies(x)
	if s := ask(); s != 80 {
		t.Errorf("serial %d after a pair added inside and the request interval, want 80", s)
	}
}
