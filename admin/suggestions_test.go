package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/suggest"
)

// seedSuggestions registers relays and verifies senders through them so
// that two groups are suggested: 192.0.2.1–3 (inside the postmaster's
// prefix) share 14 senders, and 192.0.2.10 shares 12 with 198.51.100.1
// (outside it). Each relay also has 3 senders of its own.
func seedSuggestions(e *testEnv) {
	e.t.Helper()
	relays := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.10", "198.51.100.1"}
	for _, ip := range relays {
		e.must(http.StatusCreated, "POST", "/v1/relays", adminSecret,
			fmt.Sprintf(`{"ip":%q,"contact":"pm@example.net","ptr":"out.example.net"}`, ip))
		for i := range 3 {
			e.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, fmt.Sprintf(`{"sender":"own%d-%s@example.org","ip":%q}`, i, ip, ip))
		}
	}
	share := func(tag string, n int, ips ...string) {
		for i := range n {
			for _, ip := range ips {
				e.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, fmt.Sprintf(`{"sender":"%s%d@users.example.com","ip":%q}`, tag, i, ip))
			}
		}
	}
	share("a", 14, "192.0.2.1", "192.0.2.2", "192.0.2.3")
	share("b", 12, "192.0.2.10", "198.51.100.1")
}

func suggestionIPs(t *testing.T, r response) [][]string {
	t.Helper()
	var l SuggestionList
	r.json(t, &l)
	var out [][]string
	for _, s := range l.Suggestions {
		var ips []string
		for _, rl := range s.Relays {
			ips = append(ips, rl.Prefixes[0].Addr().String())
		}
		out = append(out, ips)
	}
	return out
}

func TestSuggestions_PostmasterSeesOnlyItsOwn(t *testing.T) {
	env := newTestEnv(t)
	seedSuggestions(env)
	tests := []struct {
		secret string
		want   [][]string
	}{
		{adminSecret, [][]string{{"192.0.2.1", "192.0.2.2", "192.0.2.3"}, {"192.0.2.10", "198.51.100.1"}}},
		{postmasterSecret, [][]string{{"192.0.2.1", "192.0.2.2", "192.0.2.3"}}},
	}
	for _, tt := range tests {
		got := suggestionIPs(t, env.must(http.StatusOK, "GET", "/v1/suggestions", tt.secret, ""))
		if !slices.EqualFunc(got, tt.want, slices.Equal) {
			t.Errorf("%s sees %v, want %v", tt.secret, got, tt.want)
		}
	}
	env.must(http.StatusForbidden, "GET", "/v1/suggestions", readSecret, "")
}

func TestSuggestions_AcceptMakesAGroupWithThePairs(t *testing.T) {
	env := newTestEnv(t)
	seedSuggestions(env)
	var l SuggestionList
	env.must(http.StatusOK, "GET", "/v1/suggestions", adminSecret, "").json(t, &l)
	mine, other := l.Suggestions[0].ID, l.Suggestions[1].ID

	env.must(http.StatusNotFound, "POST", "/v1/suggestions/"+other+"/accept", postmasterSecret, `{"name":"x"}`)
	if msg := env.must(http.StatusBadRequest, "POST", "/v1/suggestions/"+mine+"/accept", postmasterSecret, "").errorMsg(t); msg == "" {
		t.Fatal("accept without a name gave no message")
	}
	var g record.Entity
	env.must(http.StatusOK, "POST", "/v1/suggestions/"+mine+"/accept", postmasterSecret, `{"name":"pool"}`).json(t, &g)
	if !g.Group || g.Name != "pool" || len(g.Prefixes) != 3 || !g.Registered || g.Contact != "pm@example.net" {
		t.Fatalf("accepted group = %+v", &g)
	}
	v := env.store.Index().Load()
	for _, sender := range []string{"a0@users.example.com", "a13@users.example.com", "own2-192.0.2.3@example.org"} {
		if p := v.Pair(g.ID, []byte(sender)); p == nil || p.By != "admin" {
			t.Errorf("pair %s under the group = %+v, want it moved with its By", sender, p)
		}
	}
	if n := v.RecordsOf(g.ID); n != 14+3*3 {
		t.Errorf("group holds %d records, want 23 (14 shared once, 9 own)", n)
	}
	got := suggestionIPs(t, env.must(http.StatusOK, "GET", "/v1/suggestions", adminSecret, ""))
	if want := [][]string{{"192.0.2.10", "198.51.100.1"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after accepting, suggestions %v, want %v", got, want)
	}
	env.must(http.StatusNotFound, "POST", "/v1/suggestions/"+mine+"/accept", adminSecret, `{"name":"pool2"}`)
}

func TestSuggestions_DismissHidesUntilTheEvidenceDoubles(t *testing.T) {
	env := newTestEnv(t)
	seedSuggestions(env)
	var l SuggestionList
	env.must(http.StatusOK, "GET", "/v1/suggestions", adminSecret, "").json(t, &l)
	mine, other := l.Suggestions[0].ID, l.Suggestions[1].ID

	env.must(http.StatusNotFound, "POST", "/v1/suggestions/"+other+"/dismiss", postmasterSecret, "")
	env.must(http.StatusForbidden, "POST", "/v1/suggestions/"+mine+"/dismiss", readSecret, "")
	var d DismissResponse
	env.must(http.StatusOK, "POST", "/v1/suggestions/"+mine+"/dismiss", postmasterSecret, "").json(t, &d)
	if d.ID != mine || d.Dismissal.Shared != 14 || d.Dismissal.By != "pm" || !slices.Equal(d.Dismissal.Entities, []uint64{1, 2, 3}) {
		t.Fatalf("dismissal %+v", d)
	}
	got := suggestionIPs(t, env.must(http.StatusOK, "GET", "/v1/suggestions", adminSecret, ""))
	if want := [][]string{{"192.0.2.10", "198.51.100.1"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after dismissing, suggestions %v, want %v", got, want)
	}
	env.must(http.StatusNotFound, "POST", "/v1/suggestions/"+mine+"/dismiss", adminSecret, "")
	env.must(http.StatusNotFound, "POST", "/v1/suggestions/"+mine+"/accept", adminSecret, `{"name":"pool"}`)

	// 13 more shared senders: 27 < 2×14, still hidden; one more makes 28.
	for i := 14; i < 28; i++ {
		for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
			env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, fmt.Sprintf(`{"sender":"a%d@users.example.com","ip":%q}`, i, ip))
		}
		env.api.suggest.Forget() // a fresh list each time
		env.must(http.StatusOK, "GET", "/v1/suggestions", adminSecret, "").json(t, &l)
		listed := len(l.Suggestions) == 2
		if listed != (i == 27) {
			t.Fatalf("with %d shared senders listed = %v, want %v", i+1, listed, i == 27)
		}
	}
	if s := l.Suggestions[0]; s.ID != mine || s.Dismissed == nil || s.Dismissed.Shared != 14 {
		t.Fatalf("renewed suggestion %+v, want %s with its dismissal", s, mine)
	}
}

// TestSuggestionCache_StaleListServedWhileRecomputed: past its minute the
// old list comes back at once and the new one replaces it when its run
// ends; a run started before Forget keeps nothing.
func TestSuggestionCache_StaleListServedWhileRecomputed(t *testing.T) {
	env := newTestEnv(t)
	var c SuggestionCache
	now := time.Unix(1_700_000_000, 0)
	empty := env.store.Index().Load()
	if got := c.Get(empty, now); len(got) != 0 {
		t.Fatalf("suggestions of an empty index: %+v", got)
	}
	seedSuggestions(env)
	full := env.store.Index().Load()
	if got := c.Get(full, now.Add(time.Second)); len(got) != 0 {
		t.Fatalf("within the minute the list changed: %+v", got)
	}
	later := now.Add(suggestionsTTL)
	if got := c.Get(full, later); len(got) != 0 {
		t.Fatalf("past the minute the reader waited for the run: %+v", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(c.Get(full, later)) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the background run never replaced the list")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	c.Forget()
	c.wg.Add(1)
	c.refresh(empty, later, gen) // a run that started before Forget
	if got := c.Get(full, later); len(got) != 2 {
		t.Fatalf("after Forget a stale run's list was kept: %+v", got)
	}
}

// TestSuggestionCache_OneBackgroundRunThroughForget: an accept's Forget
// while a background run is under way does not let a second one start
// beside it (at 10M pairs each costs seconds of CPU; every accept started
// one more before).
func TestSuggestionCache_OneBackgroundRunThroughForget(t *testing.T) {
	env := newTestEnv(t)
	v := env.store.Index().Load()
	started, release := make(chan int64, 8), make(chan struct{})
	var calls atomic.Int64
	c := &SuggestionCache{find: func(context.Context, *index.View) ([]suggest.Suggestion, error) {
		if k := calls.Add(1); k != 1 && k != 3 { // 1 and 3 are readers' own runs
			started <- k
			<-release
		}
		return []suggest.Suggestion{}, nil
	}}
	defer close(release)
	now := backgroundRun(t, c, v, started)
	c.Forget()
	c.Get(v, now.Add(suggestionsTTL)) // computes a list at once
	c.Get(v, now.Add(3*suggestionsTTL))
	select {
	case k := <-started:
		t.Fatalf("background run %d started while the first was under way", k)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestSuggestionCache_RunsEndWithTheNodeAndAreWaitedFor: a background run
// gives up when the node's context ends, a stopping node waits for it
// (bounded by its own context), and none starts after. Runs took no
// context and nobody waited for them: a node stopped with one still
// reading every pair.
func TestSuggestionCache_RunsEndWithTheNodeAndAreWaitedFor(t *testing.T) {
	env := newTestEnv(t)
	v := env.store.Index().Load()
	node, stop := context.WithCancel(context.Background())
	defer stop()
	started, ended := make(chan struct{}, 4), make(chan error, 4)
	var calls atomic.Int64
	c := NewSuggestionCache(node)
	c.find = func(ctx context.Context, _ *index.View) ([]suggest.Suggestion, error) {
		if calls.Add(1) == 1 {
			return []suggest.Suggestion{}, nil // the first reader's own run
		}
		started <- struct{}{}
		<-ctx.Done()
		ended <- ctx.Err()
		return nil, ctx.Err()
	}
	now := backgroundRun(t, c, v, started)
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with the run under way: %v, want it bounded by its context", err)
	}
	stop()
	bound, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := c.Wait(bound); err != nil {
		t.Fatalf("Wait after the node's context ended: %v", err)
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("the run ended with %v, want the node's context's end", err)
	}
	c.Get(v, now.Add(3*suggestionsTTL))
	select {
	case <-started:
		t.Error("a background run started after Wait")
	case <-time.After(200 * time.Millisecond):
	}
}

// backgroundRun has c compute a list and, a minute later, start a
// background run, which says so on started; it returns the first time.
func backgroundRun[T any](t *testing.T, c *SuggestionCache, v *index.View, started <-chan T) time.Time {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	c.Get(v, now)
	c.Get(v, now.Add(suggestionsTTL))
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("no background run past the minute")
	}
	return now
}
