package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// readStore is a read-only Store over a prebuilt index with one session
// token, for benchmarks of the read pages.
type readStore struct {
	ix  *index.Index
	tok *record.Token
}

func (s *readStore) Apply(context.Context, *command.Envelope) (command.Result, error) {
	return command.Result{}, errors.New("read-only")
}
func (s *readStore) Index() index.Reader { return s.ix }
func (s *readStore) Token(hash string) *record.Token {
	if hash == s.tok.Hash {
		return s.tok
	}
	return nil
}
func (s *readStore) Tokens() []*record.Token                 { return []*record.Token{s.tok} }
func (s *readStore) IsLeader() bool                          { return true }
func (s *readStore) Challenges(func(*record.Challenge) bool) {}

// millionPairs is an index of 1,000,000 pairs: entity 1 holds 100,
// entity 2 holds 10,000, and 8,990 lone relays share the rest.
var millionPairs = sync.OnceValue(func() *index.Index {
	ix := index.New()
	tx := ix.Begin()
	const entities = 9000
	for id := uint64(1); id <= entities; id++ {
		a := netip.AddrFrom4([4]byte{10, byte(id >> 16), byte(id >> 8), byte(id)})
		tx.PutEntity(&record.Entity{ID: id, Prefixes: []netip.Prefix{netip.PrefixFrom(a, 32)}, Registered: true})
	}
	put := func(id uint64, i int) {
		tx.PutPair(&record.Pair{Entity: id, Sender: fmt.Sprintf("user%d@example%d.org", i, i%97), By: "bench", Method: "import"})
	}
	for i := range 100 {
		put(1, i)
	}
	for i := range 10_000 {
		put(2, i)
	}
	for i := range 1_000_000 - 10_100 {
		put(uint64(3+i%(entities-2)), i)
	}
	tx.Commit()
	return ix
})

// BenchmarkPairsPage_1M times one page of the pairs page over 1M pairs.
func BenchmarkPairsPage_1M(b *testing.B) {
	ix := millionPairs()
	secret := "bench-session"
	deep := ""
	n := 0
	ix.Load().EachPairAfter(index.Cursor{}, func(r index.Ref) bool {
		n++
		deep = r.Cursor().String()
		return n < 900_000
	})
	for _, c := range []struct {
		name, role, path string
		prefixes         []netip.Prefix
	}{
		{"admin-first-page", "admin", "/console/pairs", nil},
		{"admin-page-at-900k", "admin", "/console/pairs?after=" + deep, nil},
		{"postmaster-10k-pairs", "postmaster", "/console/pairs", []netip.Prefix{netip.MustParsePrefix("10.0.0.2/32")}},
		{"postmaster-100-pairs", "postmaster", "/console/pairs", []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}},
		{"admin-search-miss", "admin", "/console/pairs?q=nobody", nil},
		{"admin-search-domain", "admin", "/console/pairs?q=@example5.org", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			st := &readStore{ix: ix, tok: &record.Token{Name: sessionPrefix + "0-bench", Hash: admin.HashSecret(secret),
				Role: record.Role(c.role), Prefixes: c.prefixes, Created: time.Now().Unix()}}
			con, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, st)
			if err != nil {
				b.Fatal(err)
			}
			var before syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
			for b.Loop() {
				req := httptest.NewRequest("GET", c.path, nil)
				req.AddCookie(&http.Cookie{Name: cookieName, Value: secret})
				w := httptest.NewRecorder()
				con.ServeHTTP(w, req)
				if w.Code != 200 || !strings.Contains(w.Body.String(), "<h2 id=\"list\">") {
					b.Fatalf("%s: %d %s", c.path, w.Code, w.Body.String()[strings.Index(w.Body.String(), "<main"):])
				}
			}
			var after syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
			cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkFindRelay_1M times finding the relay or group a sign-in form
// names among 1,000,000 lone relays and one group: an address through the
// index, a name through the group name table (a walk copying every entity
// took about half a second and 176 MB).
func BenchmarkFindRelay_1M(b *testing.B) {
	con, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, &readStore{ix: millionRelays(), tok: &record.Token{}})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"10.7.161.32", "pool", "nosuch"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if e := con.findRelay(name); (e == nil) != (name == "nosuch") {
					b.Fatalf("%s: %v", name, e)
				}
			}
		})
	}
}

// millionRelays is an index of 1,000,000 lone relays in 10.0.0.0/12 and
// one group.
var millionRelays = sync.OnceValue(func() *index.Index {
	ix := index.New()
	tx := ix.Begin()
	for id := uint64(1); id <= 1_000_000; id++ {
		a := netip.AddrFrom4([4]byte{10, byte(id >> 16), byte(id >> 8), byte(id)})
		tx.PutEntity(&record.Entity{ID: id, Prefixes: []netip.Prefix{netip.PrefixFrom(a, 32)}, Registered: true, Contact: "pm@example.org"})
	}
	tx.PutEntity(&record.Entity{ID: 1_000_001, Name: "pool", Group: true, Registered: true, Contact: "pm@example.org",
		Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	tx.Commit()
	return ix
})

// BenchmarkRelaysPage_1M times the relays page and the pairs page's relay
// list over 1,000,000 relays, for an admin (the first 100) and for a
// postmaster who holds 256 of them (a walk of every relay).
func BenchmarkRelaysPage_1M(b *testing.B) {
	ix := millionRelays()
	secret := "bench-session"
	for _, c := range []struct {
		name, role, path, want string
		prefixes               []netip.Prefix
	}{
		{"admin-relays", "admin", "/console/relays", "10.0.0.1", nil},
		{"postmaster-relays", "postmaster", "/console/relays", "10.3.1.", []netip.Prefix{netip.MustParsePrefix("10.3.1.0/24")}},
		{"postmaster-pairs", "postmaster", "/console/pairs", "10.3.1.", []netip.Prefix{netip.MustParsePrefix("10.3.1.0/24")}},
	} {
		b.Run(c.name, func(b *testing.B) {
			st := &readStore{ix: ix, tok: &record.Token{Name: sessionPrefix + "0-token-bench", Hash: admin.HashSecret(secret),
				Role: record.Role(c.role), Prefixes: c.prefixes, Created: time.Now().Unix()}}
			con, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, st)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				req := httptest.NewRequest("GET", c.path, nil)
				req.AddCookie(&http.Cookie{Name: cookieName, Value: secret})
				w := httptest.NewRecorder()
				con.ServeHTTP(w, req)
				if w.Code != 200 || !strings.Contains(w.Body.String(), c.want) {
					b.Fatalf("%s: %d", c.path, w.Code)
				}
			}
		})
	}
}
