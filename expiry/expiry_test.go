package expiry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
)

// fixture, all written at t0: group 1 (192.0.2.0/24) with pair
// dave@umkc.edu and VERP lists.example.org, registered relay 2
// (198.51.100.7) with a pinned pair, and an auto-created entity 3 for
// 203.0.113.9 with pair eve@example.net.
func fixture(t *testing.T) *node {
	n := newNode(t)
	n.must(command.EntityPut, t0, command.EntityBody{Name: "A", Group: true, Prefixes: []string{"192.0.2.0/24"}})
	n.must(command.EntityPut, t0, command.EntityBody{Prefixes: []string{"198.51.100.7"}, Registered: true, Contact: "pm@b.example"})
	n.must(command.PairPut, t0, command.PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.10"})
	n.must(command.VerpPut, t0, command.VerpBody{Domain: "lists.example.org", Entity: 1})
	n.must(command.PairPut, t0, command.PairBody{Sender: "keep@example.net", Entity: 2, Pinned: true})
	n.must(command.PairPut, t0, command.PairBody{Sender: "eve@example.net", IP: "203.0.113.9"})
	n.proposed = nil
	return n
}

// seen marks a pair as answered at t, as the DNS server does.
func seen(t *testing.T, v *index.View, entity uint64, sender string, at time.Time) {
	t.Helper()
	p := v.LookupPair(entity, []byte(sender))
	if !p.Found() {
		t.Fatalf("no pair %s via %d", sender, entity)
	}
	p.MarkSeen(at.Unix())
}

func touches(n *node) (out []command.TouchBody) {
	for _, e := range n.proposed {
		if e.Type == command.Touch {
			var b command.TouchBody
			if err := e.DecodeBody(&b); err != nil {
				panic(err)
			}
			out = append(out, b)
		}
	}
	return out
}

func TestTouch_ReportsASeenRecordOncePerGranularity(t *testing.T) {
	n := fixture(t)
	c := &clock{t: t0.Add(time.Hour + 5*time.Minute)}
	r := runner(t, n, c, nil)
	ctx := context.Background()
	lastQueried := func() int64 { return n.fsm.Index().Load().Pair(1, []byte("dave@umkc.edu")).LastQueried }

	seen(t, n.fsm.Index().Load(), 1, "dave@umkc.edu", t0.Add(time.Hour))
	if err := r.Touch(ctx); err != nil {
		t.Fatal(err)
	}
	want := []command.TouchBody{{Entities: []command.TouchEntity{{ID: 1, Pairs: []command.TouchItem{{Key: "dave@umkc.edu", Age: 300}}}}}}
	if got := touches(n); !reflect.DeepEqual(got, want) {
		t.Fatalf("first touch = %+v, want %+v", got, want)
	}
	if got := lastQueried(); got != t0.Add(time.Hour).Unix() {
		t.Fatalf("LastQueried = %d, want the seen time %d", got, t0.Add(time.Hour).Unix())
	}

	// Seen again the same day: not reported again.
	seen(t, n.fsm.Index().Load(), 1, "dave@umkc.edu", t0.Add(5*time.Hour))
	c.set(t0.Add(5*time.Hour + time.Minute))
	if err := r.Touch(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(touches(n)); got != 1 {
		t.Fatalf("a record seen again within the granularity was reported again (%d touches)", got)
	}

	// A day after the last report: reported again.
	seen(t, n.fsm.Index().Load(), 1, "dave@umkc.edu", t0.Add(day+2*time.Hour))
	c.set(t0.Add(day + 2*time.Hour))
	if err := r.Touch(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(touches(n)); got != 2 || lastQueried() != t0.Add(day+2*time.Hour).Unix() {
		t.Fatalf("next day: %d touches, LastQueried %d", got, lastQueried())
	}
	// Nothing seen that is not reported yet: no proposal at all.
	if err := r.Touch(ctx); err != nil || len(touches(n)) != 2 {
		t.Fatalf("idle touch proposed something: %v, %d touches", err, len(touches(n)))
	}
}

func TestCollect_BoundedDeterministicChunks(t *testing.T) {
	n := newNode(t)
	now := t0.Add(time.Hour)
	var want int
	for e := range 20 {
		for i := range 100 + e*10 {
			n.must(command.PairPut, t0, command.PairBody{Sender: fmt.Sprintf("user%04d@d%d.example", i, e), IP: fmt.Sprintf("192.0.2.%d", e+1)})
			want++
		}
	}
	v := n.fsm.Index().Load()
	v.EachPair(func(p index.Ref) bool { p.MarkSeen(now.Unix()); return true })
	v.EntityRef(3).MarkSeen(now.Unix())
	const limit = 4096
	a := Collect(v, now.Unix(), 86400, limit)
	if b := Collect(v, now.Unix(), 86400, limit); !reflect.DeepEqual(a, b) {
		t.Fatal("two collections of the same marks differ")
	}
	got, self := 0, 0
	for i, body := range a {
		raw, _ := json.Marshal(body)
		if len(raw) > limit {
			t.Errorf("body %d is %d bytes, over the %d limit", i, len(raw), limit)
		}
		for _, te := range body.Entities {
			got += len(te.Pairs)
			if te.Self {
				self++
			}
		}
	}
	if got != want || self != 1 {
		t.Errorf("reported %d pairs and %d entities, want %d and 1", got, self, want)
	}
	if len(a) < 10 {
		t.Errorf("%d bodies for %d pairs under %d bytes each: not split", len(a), want, limit)
	}
}

func TestCutoffs_PerKindWithSlack(t *testing.T) {
	now := t0.Add(400 * day)
	slack := day + 10*time.Minute
	w := Windows{Pairs: 180 * day, DomainPairs: 90 * day, Verps: 30 * day, Relays: 365 * day}
	got := w.Cutoffs(now, slack)
	at := func(d time.Duration) int64 { return now.Add(-d - slack).Unix() }
	challenges := now.Add(-ChallengeRetention).Unix()
	want := command.ExpireBody{Pairs: at(180 * day), DomainPairs: at(90 * day), Verps: at(30 * day), Relays: at(365 * day), Groups: 0, Orphans: at(180 * day), Challenges: challenges}
	if got != want {
		t.Errorf("Cutoffs = %+v, want %+v", got, want)
	}
	if got := (Windows{}).Cutoffs(now, slack); got != (command.ExpireBody{Challenges: challenges}) {
		t.Errorf("no windows: %+v, want only verification state to expire", got)
	}
}

func TestSweep_DeletesWhatNobodyAskedFor(t *testing.T) {
	n := fixture(t)
	c := &clock{}
	r := runner(t, n, c, func(cfg *Config) { cfg.Windows.Groups = 30 * day })
	ctx := context.Background()
	// dave is queried on day 100 and reported.
	seen(t, n.fsm.Index().Load(), 1, "dave@umkc.edu", t0.Add(100*day))
	c.set(t0.Add(100*day + time.Minute))
	if err := r.Touch(ctx); err != nil {
		t.Fatal(err)
	}
	step := func(at time.Duration) *index.View {
		t.Helper()
		c.set(t0.Add(at))
		if err := r.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		return n.fsm.Index().Load()
	}
	// Day 180 exactly: within window plus slack, nothing goes.
	if v := step(180 * day); v.Counts().Pairs != 3 {
		t.Fatalf("day 180: %+v", v.Counts())
	}
	v := step(181*day + time.Hour)
	if v.Pair(3, []byte("eve@example.net")) != nil || v.Entity(3) != nil {
		t.Error("day 181: the unqueried pair or its auto-created entity is still there")
	}
	if v.Verp(1, []byte("lists.example.org")) != nil {
		t.Error("day 181: the unqueried VERP source is still there")
	}
	if v.Pair(1, []byte("dave@umkc.edu")) == nil || v.Entity(1) == nil {
		t.Error("day 181: the pair queried on day 100, or its group, expired")
	}
	if v.Pair(2, []byte("keep@example.net")) == nil || v.Entity(2) == nil {
		t.Error("day 181: the pinned pair or its relay expired")
	}
	v = step(282 * day)
	if v.Pair(1, []byte("dave@umkc.edu")) != nil || v.Entity(1) != nil {
		t.Error("day 282: the pair last queried on day 100 and its emptied group (30-day window) are still there")
	}
	if v.Pair(2, []byte("keep@example.net")) == nil {
		t.Error("the pinned pair expired")
	}
}

func TestRun_SweepsOnlyOnTheLeader(t *testing.T) {
	n := fixture(t)
	n.leader = false
	var leader atomic.Bool
	p := &leaderSwitch{node: n, leader: &leader}
	c := &clock{t: t0.Add(400 * day)}
	cfg := Config{Index: n.fsm.Index(), Store: p, Windows: DefaultWindows(), Now: c.now,
		TouchInterval: 5 * time.Millisecond, SweepInterval: 5 * time.Millisecond}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	time.Sleep(50 * time.Millisecond)
	if k := p.expires.Load(); k != 0 {
		t.Fatalf("a follower proposed %d expire commands", k)
	}
	leader.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for p.expires.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if p.expires.Load() == 0 {
		t.Fatal("the leader proposed no expire command")
	}
	if n.fsm.Index().Load().Pair(3, []byte("eve@example.net")) != nil {
		t.Error("the leader's sweep did not expire the old pair")
	}
}

// leaderSwitch counts expire proposals and switches leadership.
type leaderSwitch struct {
	*node
	leader  *atomic.Bool
	expires atomic.Int64
}

func (l *leaderSwitch) IsLeader() bool { return l.leader.Load() }

func (l *leaderSwitch) Apply(ctx context.Context, e *command.Envelope) (command.Result, error) {
	if e.Type == command.Expire {
		l.expires.Add(1)
	}
	return l.node.Apply(ctx, e)
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"180d", 180 * day, false},
		{"1.5d", 36 * time.Hour, false},
		{"12h", 12 * time.Hour, false},
		{"3s", 3 * time.Second, false},
		{"0", 0, false},
		{"never", 0, false},
		{"-1d", 0, true},
		{"d", 0, true},
		{"180 days", 0, true},
		{"-5s", 0, true},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
		if err != nil && !errors.Is(err, ErrDuration) {
			t.Errorf("ParseDuration(%q) error %v is not ErrDuration", c.in, err)
		}
	}
}

func TestExpiring_ListsWhatASweepWouldDelete(t *testing.T) {
	n := fixture(t)
	seen(t, n.fsm.Index().Load(), 1, "dave@umkc.edu", t0.Add(100*day))
	r := runner(t, n, &clock{t: t0.Add(100 * day)}, nil)
	if err := r.Touch(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := n.fsm.Index().Load()
	list := func(until time.Duration, kind string) map[string]int64 {
		out := map[string]int64{}
		r.Windows().Expiring(v, r.Slack(), t0.Add(until), kind, func(it Item) bool {
			out[fmt.Sprintf("%s/%d/%s", it.Kind, it.Entity, it.Key)] = it.Expires
			return true
		})
		return out
	}
	slack := int64(r.Slack() / time.Second)
	old := t0.Add(180*day).Unix() + slack
	if got, want := list(200*day, ""), map[string]int64{
		"pairs/3/eve@example.net":          old,
		"verp_sources/1/lists.example.org": old,
		"entities/3/":                      old,
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("expiring by day 200 = %v\nwant %v", got, want)
	}
	if got := list(300*day, KindPairs); len(got) != 2 || got["pairs/1/dave@umkc.edu"] != t0.Add(280*day).Unix()+slack {
		t.Errorf("pairs expiring by day 300 = %v", got)
	}
	if got := list(179*day, ""); len(got) != 0 {
		t.Errorf("expiring by day 179 = %v, want nothing", got)
	}
}
