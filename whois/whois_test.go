package whois

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

const created = 1795392000 // 2026-11-23

// registry holds a registered group with a nested unregistered relay and
// a registered lone relay.
func registry(t testing.TB) *index.Index {
	t.Helper()
	ix := index.New()
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Name: "umkc-mx", Group: true, Registered: true, Contact: "postmaster@umkc.edu",
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8:1::/48")},
		Meta:     record.Meta{Created: created, Updated: created + 86400}})
	tx.PutEntity(&record.Entity{ID: 2, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.77/32")}, Meta: record.Meta{Created: created}})
	tx.PutEntity(&record.Entity{ID: 3, Registered: true, Contact: "ops@mail.example", PTR: "mx1.mail.example",
		Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.9/32")}, Meta: record.Meta{Created: created, Pinned: true}})
	tx.SetSerial(7)
	tx.Commit()
	return ix
}

func TestAnswer_EntitiesAsThePrivacySettingAllows(t *testing.T) {
	ix := registry(t)
	tests := []struct {
		query, contact string
		want, not      []string
	}{
		{"192.0.2.10", ContactFull, []string{"entity:       1\r\n", "kind:         relay group\r\n", "name:         umkc-mx\r\n",
			"prefix:       192.0.2.0/24\r\n", "prefix:       2001:db8:1::/48\r\n", "registered:   yes", "contact:      postmaster@umkc.edu\r\n",
			"created:      2026-11-23T00:00:00Z\r\n", "updated:      2026-11-24T00:00:00Z\r\n"}, []string{"ptr:", "pinned:"}},
		{"UMKC-MX\r", ContactDomain, []string{"entity:       1\r\n", "contact:      (withheld)@umkc.edu\r\n"}, []string{"postmaster@"}},
		{" 2001:db8:1::9 ", ContactNone, []string{"entity:       1\r\n", "contact:      (registered, withheld"}, []string{"umkc.edu"}},
		{"192.0.2.77", ContactFull, []string{"entity:       2\r\n", "kind:         relay\r\n", "registered:   no\r\n"}, []string{"contact:", "name:"}},
		{"::ffff:198.51.100.9", ContactFull, []string{"entity:       3\r\n", "ptr:          mx1.mail.example\r\n", "pinned:       yes", "contact:      ops@mail.example"}, nil},
		{"198.51.100.10", ContactFull, []string{"% no relay entity for 198.51.100.10\r\n"}, []string{"entity:"}},
		{"nosuch-group", ContactFull, []string{"% no relay entity for nosuch-group\r\n"}, nil},
		{"", ContactFull, []string{"% empty query"}, nil},
		{"drop table;", ContactFull, []string{"% not an IP address or a relay group name\r\n"}, nil},
		{"fe80::1%eth0", ContactFull, []string{"% not an IP address"}, nil},
		{strings.Repeat("a", MaxQuery+1), ContactFull, []string{"% query too long\r\n"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.query+"/"+tc.contact, func(t *testing.T) {
			s, err := New(ix, Config{Contact: tc.contact})
			if err != nil {
				t.Fatal(err)
			}
			got := s.Answer(strings.TrimSuffix(tc.query, "\r"))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("answer holds %q:\n%s", n, got)
				}
			}
		})
	}
}

func TestAnswer_Delegations(t *testing.T) {
	ix := registry(t)
	tx := ix.Begin()
	for _, d := range []*record.Delegation{
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), NS: []record.NameServer{{Name: "ns1.umkc.edu"}, {Name: "ns2.umkc.edu"}}, Created: created},
		{Prefix: netip.MustParsePrefix("203.0.113.0/24"), NS: []record.NameServer{{Name: "ns.other.example"}}, Created: created},
	} {
		if err := tx.PutDelegation(d); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	s, err := New(ix, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"umkc-mx": 1, "192.0.2.77": 1, "198.51.100.9": 0} {
		got := s.Answer(q)
		if n := strings.Count(got, "delegation:"); n != want ||
			want == 1 && !strings.Contains(got, "delegation:   192.0.2.0/24 to ns1.umkc.edu ns2.umkc.edu since 2026-11-23T00:00:00Z\r\n") {
			t.Errorf("%s: %d delegation lines, want %d:\n%s", q, n, want, got)
		}
	}
}

func TestNew_RefusesAnUnknownPrivacySetting(t *testing.T) {
	if _, err := New(registry(t), Config{Contact: "some"}); err == nil {
		t.Error("contact setting \"some\" accepted")
	}
}

func TestServer_BoundsConnectionsAndTime(t *testing.T) {
	s, err := New(registry(t), Config{Contact: ContactFull, MaxConns: 2, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	read := func(c net.Conn) string {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	// Two silent clients hold the two slots; a third is told to come back.
	a, b := dial(), dial()
	time.Sleep(100 * time.Millisecond)
	if got := read(dial()); !strings.Contains(got, "% busy") {
		t.Errorf("third connection: %q, want busy", got)
	}
	// The silent ones are closed after the timeout, with no answer.
	start := time.Now()
	if got := read(a); got != "" || time.Since(start) > 2*time.Second {
		t.Errorf("silent client got %q after %v", got, time.Since(start))
	}
	read(b)
	// A query split over writes, then the answer and the close.
	c := dial()
	_, _ = io.WriteString(c, "198.51.")
	_, _ = io.WriteString(c, "100.9\r\n")
	if got := read(c); !strings.Contains(got, "ptr:          mx1.mail.example") {
		t.Errorf("answer: %q", got)
	}
	// An endless line is cut at MaxQuery.
	c = dial()
	go func() { _, _ = io.WriteString(c, strings.Repeat("x", 10*MaxQuery)) }()
	if got := read(c); !strings.Contains(got, "% query too long") {
		t.Errorf("long line: %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// TestServer_OneClientCannotTakeEverySlot floods the server with 300
// silent connections from 127.0.0.1: it holds two of them (the client's
// share), tells or shows the rest they are refused at once, and answers
// another client address (127.0.0.2) all the while. Before the share, the
// flood took all eight slots and every other client was told "busy".
func TestServer_OneClientCannotTakeEverySlot(t *testing.T) {
	s, err := New(registry(t), Config{Contact: ContactFull, MaxConns: 8, MaxConnsPerClient: 2, Timeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	const flood = 300
	held := make(chan bool, flood)
	for range flood {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		go func() {
			// A refused connection is answered "busy" or closed within a
			// second; a held one stays open, silent, until the timeout.
			_ = c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
			b, err := io.ReadAll(c)
			var ne net.Error
			held <- errors.As(err, &ne) && ne.Timeout() && len(b) == 0
		}()
	}
	other := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	c, err := other.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "198.51.100.9\r\n")
	if b, _ := io.ReadAll(c); !strings.Contains(string(b), "ptr:          mx1.mail.example") {
		t.Errorf("another client during the flood: %q, want the answer", b)
	}
	n := 0
	for range flood {
		if <-held {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d of the flood's connections were held, want the client's share of 2", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "umkc-mx", "UMKC-MX ", "", " ", "::ffff:1.2.3.4", "fe80::1%eth0", "a b", "-h", strings.Repeat("9", MaxQuery+1)} {
		f.Add(s)
	}
	s, err := New(registry(f), Config{Contact: ContactFull})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		q, err := ParseQuery(line)
		if err == nil && q.Addr.IsValid() == (q.Group != "") {
			t.Fatalf("%q: query %+v is not exactly one of address and name", line, q)
		}
		if err == nil && q.Group != "" && (strings.ContainsAny(q.Group, " \r\n%") || len(q.Group) > 64) {
			t.Fatalf("%q: group name %q", line, q.Group)
		}
		ans := s.Answer(line)
		lines := strings.Split(ans, "\n")
		for _, l := range lines[:len(lines)-1] {
			if !strings.HasSuffix(l, "\r") {
				t.Fatalf("%q: answer line %q does not end in CRLF", line, l)
			}
		}
		if lines[len(lines)-1] != "" {
			t.Fatalf("%q: answer does not end with a line end", line)
		}
		for _, c := range []byte(ans) {
			if c < 0x20 && c != '\r' && c != '\n' || c == 0x7f {
				t.Fatalf("%q: the answer carries control byte %#x", line, c)
			}
		}
	})
}
