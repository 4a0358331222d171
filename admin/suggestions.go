package admin

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/suggest"
)

// suggestionsTTL is how long GET /v1/suggestions reuses a computed list:
// a run reads every pair (about 0.4 CPU-s per million), and the evidence
// changes slowly. Accepting checks the entities as they are now.
const suggestionsTTL = time.Minute

// maxAcceptRecords bounds the pairs and VERP sources an accept moves in one
// batch, well inside one log entry.
const maxAcceptRecords = 20_000

// SuggestionList is the answer of GET /v1/suggestions.
type SuggestionList struct {
	// Suggestions are sorted by their strongest link's shared senders, then ID.
	Suggestions []suggest.Suggestion `json:"suggestions"`
}

// AcceptRequest is the body of POST /v1/suggestions/{id}/accept.
type AcceptRequest struct {
	// Name is the new group's name; required when the suggestion has no
	// group, ignored when it extends one.
	Name string `json:"name,omitempty"`
	// Contact is the new group's contact; default the first registered
	// relay's.
	Contact string `json:"contact,omitempty"`
}

// SuggestionCache holds the last computed suggestions: one per node, the
// API's, which the web console shares (API.SuggestionCache). Its runs end
// with its context, the node's, and a node stopping waits for the one in
// the background (Wait).
type SuggestionCache struct {
	mu   sync.Mutex
	at   time.Time
	list []suggest.Suggestion
	// gen counts Forget calls: a background run started before one does
	// not store its list. running is true while one is under way, kept
	// through Forget so that runs never overlap.
	gen     uint64
	running bool
	// ctx ends the runs (NewSuggestionCache); nil: context.Background().
	ctx context.Context
	// wg counts the background runs; after Wait (closed) none starts.
	wg     sync.WaitGroup
	closed bool
	// find computes a list; nil is suggest.FindContext with the defaults.
	find func(context.Context, *index.View) ([]suggest.Suggestion, error)
}

// NewSuggestionCache returns a cache whose runs give up when ctx, the
// node's, ends.
func NewSuggestionCache(ctx context.Context) *SuggestionCache { return &SuggestionCache{ctx: ctx} }

// Get returns the suggestions of v, computed at most once per
// suggestionsTTL (a minute) by now's clock. With no list yet (or after
// Forget) the caller waits for the run; a list past its minute is
// returned as it is while a new one is computed in the background (at
// 10M pairs a run takes seconds: no reader waits for it then). Once the
// node's context has ended there is no list.
func (c *SuggestionCache) Get(v *index.View, now time.Time) []suggest.Suggestion {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.list == nil:
		if list, err := c.compute(v); err == nil {
			c.list, c.at = list, now
		}
	case (now.Sub(c.at) >= suggestionsTTL || now.Before(c.at)) && !c.running && !c.closed:
		c.running = true
		c.wg.Add(1)
		go c.refresh(v, now, c.gen)
	}
	return c.list
}

// refresh computes the list of v in the background and keeps it unless
// Forget was called since it started, or the run gave up.
func (c *SuggestionCache) refresh(v *index.View, now time.Time, gen uint64) {
	defer c.wg.Done()
	list, err := c.compute(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.running = false
	if err == nil && c.gen == gen {
		c.list, c.at = list, now
	}
}

// Wait starts no more background runs and waits, until ctx ends, for the
// one under way: a node stopping calls it once its context (the cache's)
// has ended, and the run gives up within milliseconds of that.
func (c *SuggestionCache) Wait(ctx context.Context) error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the suggested groups' run: %w", ctx.Err())
	}
}

// compute is c.find, or find, under c's context.
func (c *SuggestionCache) compute(v *index.View) ([]suggest.Suggestion, error) {
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if c.find != nil {
		return c.find(ctx, v)
	}
	return find(ctx, v)
}

// find is suggest.FindContext with the defaults, never a nil list.
func find(ctx context.Context, v *index.View) ([]suggest.Suggestion, error) {
	list, err := suggest.FindContext(ctx, v, suggest.Config{})
	if err != nil {
		return nil, fmt.Errorf("finding suggested groups: %w", err)
	}
	if list == nil {
		list = []suggest.Suggestion{}
	}
	return list, nil
}

// SuggestionCache returns the API's cache of suggestions, for the web
// console to share: at 10M pairs a run costs seconds of CPU, so a node
// computes the list once a minute at most, not once per reader.
func (a *API) SuggestionCache() *SuggestionCache { return a.suggest }

// Forget drops the cached suggestions, after an accept changed them.
func (c *SuggestionCache) Forget() {
	c.mu.Lock()
	c.list = nil
	c.gen++
	c.mu.Unlock()
}

// suggestions returns the current suggestions, computed at most once per
// suggestionsTTL, without those dismissed (checked on every call: a
// dismissal hides its suggestion at once).
func (a *API) suggestions(v *index.View) []suggest.Suggestion {
	return suggest.WithoutDismissed(a.suggest.Get(v, a.cfg.Now()), Dismissals(a.store))
}

// Dismisser is the store's list of dismissed suggestions; a store without
// it has none.
type Dismisser interface {
	// Dismissals returns the dismissed suggestions.
	Dismissals() []record.Dismissal
}

// Dismissals returns store's dismissed suggestions when it keeps them.
func Dismissals(store any) []record.Dismissal {
	if d, ok := store.(Dismisser); ok {
		return d.Dismissals()
	}
	return nil
}

// DismissResponse is the answer of POST /v1/suggestions/{id}/dismiss.
type DismissResponse struct {
	// ID is the dismissed suggestion.
	ID string `json:"id"`
	// Dismissal is what the cluster keeps.
	Dismissal record.Dismissal `json:"dismissal"`
}

// DismissBody is the body of the command that dismisses s for who.
func DismissBody(s *suggest.Suggestion, who string) command.SuggestionDismissBody {
	b := command.SuggestionDismissBody{Shared: s.Links[0].Shared, By: who}
	for _, r := range s.Relays {
		b.Entities = append(b.Entities, r.ID)
	}
	return b
}

func (a *API) dismissSuggestion(w http.ResponseWriter, r *http.Request, c *caller) error {
	s, err := a.findSuggestion(r, c)
	if err != nil {
		return err
	}
	body := DismissBody(s, c.name())
	if _, err := a.propose(r.Context(), r, command.SuggestionDismiss, body); err != nil {
		return err
	}
	for _, d := range Dismissals(a.store) {
		if suggest.ID(d.Entities) == s.ID {
			writeJSON(w, http.StatusOK, DismissResponse{ID: s.ID, Dismissal: d})
			return nil
		}
	}
	return errorf(http.StatusServiceUnavailable, "suggestion %s was dismissed but is not yet applied on this node", s.ID)
}

// visible reports whether the caller may see and act on s: an admin any, a
// postmaster those whose relays all lie inside its prefixes.
func (c *caller) visible(s *suggest.Suggestion) bool {
	for _, r := range s.Relays {
		if c.mayWrite(r.Prefixes...) != nil {
			return false
		}
	}
	return true
}

func (a *API) listSuggestions(w http.ResponseWriter, r *http.Request, c *caller) error {
	all := a.suggestions(a.store.Index().Load())
	out := SuggestionList{Suggestions: []suggest.Suggestion{}}
	for i := range all {
		if c.visible(&all[i]) {
			out.Suggestions = append(out.Suggestions, all[i])
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// findSuggestion returns the caller's suggestion with the request's ID.
func (a *API) findSuggestion(r *http.Request, c *caller) (*suggest.Suggestion, error) {
	id := r.PathValue("id")
	all := a.suggestions(a.store.Index().Load())
	for i := range all {
		if all[i].ID == id && c.visible(&all[i]) {
			return &all[i], nil
		}
	}
	return nil, errorf(http.StatusNotFound, "no suggestion %s", id)
}

func (a *API) acceptSuggestion(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req AcceptRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
			return err
		}
	}
	s, err := a.findSuggestion(r, c)
	if err != nil {
		return err
	}
	v := a.store.Index().Load()
	cmds, err := acceptCommands(v, s, &req, a.cfg.Now().Unix())
	if err != nil {
		return err
	}
	res, err := a.propose(r.Context(), r, command.Batch, command.BatchBody{Commands: cmds})
	if err != nil {
		return err
	}
	a.suggest.Forget()
	v = a.store.Index().Load()
	g := v.Entity(s.Group)
	if g == nil {
		g = groupByName(v, cmdsGroupName(cmds))
	}
	if g == nil {
		return missingAfter(w, res, "group")
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}
