package admin

import (
	"cmp"
	"context"
	"encoding/base64"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/verify"
)

// Verifier is the node's verification service (*verify.Service). Leave
// Config.Verify nil (not a nil *verify.Service) on a node without
// verification: POST /v1/challenges then answers 503.
type Verifier interface {
	// Request asks for a challenge to sender for mail through the relay at ip.
	Request(ctx context.Context, sender string, ip netip.Addr, by string) (verify.Outcome, error)
}

// challengeReader is the challenge read side of the store
// (raftstore.Store); a store without it answers 404 to the GETs.
type challengeReader interface {
	ChallengeByID(id string) *record.Challenge
	Challenges(fn func(*record.Challenge) bool)
}

// ChallengeRequest is the body of POST /v1/challenges.
type ChallengeRequest struct {
	// Sender is the envelope sender the MTA deferred.
	Sender string `json:"sender"`
	// IP is the connecting relay's address.
	IP string `json:"ip"`
}

// ChallengeAnswer is the answer of POST /v1/challenges.
type ChallengeAnswer struct {
	// Outcome is sent, open, listed, refused, limited, no_entity or
	// send_failed.
	Outcome string `json:"outcome"`
	// Status repeats Outcome (the policy service reads this name).
	Status string `json:"status"`
	// Reason explains refused, limited, no_entity and send_failed.
	Reason string `json:"reason,omitempty"`
	// Limit names the rate limit that refused a limited request: sender,
	// domain_relay, domain or relay.
	Limit string `json:"limit,omitempty"`
	// Error repeats Reason on non-2xx answers, as every API error does.
	Error string `json:"error,omitempty"`
	// Challenge is the challenge opened or found, without its token hash.
	Challenge *record.Challenge `json:"challenge,omitempty"`
}

// ChallengeList is the answer of GET /v1/challenges.
type ChallengeList struct {
	// Challenges are sorted newest first (by created, then ID).
	Challenges []*record.Challenge `json:"challenges"`
	// Next is the cursor for the following page, empty on the last one.
	Next string `json:"next,omitempty"`
}

// outcomeStatus is the HTTP status of a Request outcome.
func outcomeStatus(o verify.Outcome) int {
	switch o.Result {
	case verify.Sent:
		return http.StatusCreated
	case verify.Open, verify.Listed:
		return http.StatusOK
	case verify.Refused:
		if o.Unchallengeable {
			return http.StatusUnprocessableEntity
		}
		return http.StatusForbidden
	case verify.Limited:
		return http.StatusTooManyRequests
	case verify.SendFailed:
		return http.StatusBadGateway
	default: // no_entity
		return http.StatusUnprocessableEntity
	}
}

func (a *API) requestChallenge(w http.ResponseWriter, r *http.Request, c *caller) error {
	if a.cfg.Verify == nil {
		return errorf(http.StatusServiceUnavailable, "%v", verify.ErrNotConfigured)
	}
	var req ChallengeRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	ip, err := parseIP(req.IP)
	if err != nil {
		return err
	}
	if strings.TrimSpace(req.Sender) == "" {
		req.Sender = "<>"
	}
	o, err := a.cfg.Verify.Request(r.Context(), req.Sender, ip, c.name())
	if err != nil {
		return unavailable(err)
	}
	status := outcomeStatus(o)
	ans := ChallengeAnswer{Outcome: string(o.Result), Status: string(o.Result), Reason: o.Reason, Limit: o.Limit, Challenge: a.shown(o.Challenge)}
	if status >= 300 {
		ans.Error = o.Reason
	}
	writeJSON(w, status, ans)
	return nil
}

// shown is c as the API shows it: its state as of now (an open challenge
// past its expiry reads "expired"). The token hash is never serialised.
func (a *API) shown(c *record.Challenge) *record.Challenge {
	if c == nil {
		return nil
	}
	cp := *c
	cp.State = c.Status(a.cfg.Now().Unix())
	return &cp
}

func (a *API) challengeReader() (challengeReader, error) {
	cr, ok := a.store.(challengeReader)
	if !ok {
		return nil, errorf(http.StatusNotFound, "this node's store keeps no challenges")
	}
	return cr, nil
}

func (a *API) getChallenge(w http.ResponseWriter, r *http.Request, _ *caller) error {
	cr, err := a.challengeReader()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	ch := cr.ChallengeByID(id)
	if ch == nil {
		return errorf(http.StatusNotFound, "no challenge %q", id)
	}
	writeJSON(w, http.StatusOK, a.shown(ch))
	return nil
}

// challengeFilter is the selection of GET /v1/challenges.
type challengeFilter struct {
	state  record.ChallengeState
	sender string
	kind   record.ChallengeKind
	limit  int
	after  *challengeKey
}

// challengeKey orders challenges newest first.
type challengeKey struct {
	created int64
	id      string
}

// compare orders newest first, then by ID.
func (k challengeKey) compare(o challengeKey) int {
	if c := cmp.Compare(o.created, k.created); c != 0 {
		return c
	}
	return strings.Compare(k.id, o.id)
}

func parseChallengeFilter(r *http.Request) (challengeFilter, error) {
	q := r.URL.Query()
	f := challengeFilter{limit: DefaultLimit}
	switch s := q.Get("state"); s {
	case "", "open", "confirmed", "forged", "list", "expired", "superseded":
		f.state = record.ChallengeState(s)
	case "forgery":
		f.state = record.ChallengeForged
	default:
		return f, errorf(http.StatusBadRequest, "invalid state %q: want open, confirmed, forged, list, expired or superseded", s)
	}
	switch s := q.Get("kind"); s {
	case "", "pair", "verp":
		f.kind = record.ChallengeKind(s)
	default:
		return f, errorf(http.StatusBadRequest, "invalid kind %q: want pair or verp", s)
	}
	if s := q.Get("sender"); s != "" {
		sender, err := record.NormalizeSender(s)
		if err != nil {
			return f, errorf(http.StatusBadRequest, "%v", err)
		}
		f.sender = sender
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return f, errorf(http.StatusBadRequest, "invalid limit %q: want 1 to %d", s, MaxLimit)
		}
		f.limit = n
	}
	if s := q.Get("after"); s != "" {
		k, err := decodeChallengeCursor(s)
		if err != nil {
			return f, err
		}
		f.after = &k
	}
	return f, nil
}

func (f *challengeFilter) match(c *record.Challenge, now int64) bool {
	return (f.state == "" || c.Status(now) == f.state) && (f.kind == "" || c.Kind == f.kind) &&
		(f.sender == "" || c.Sender == f.sender) &&
		(f.after == nil || f.after.compare(challengeKey{c.Created, c.ID}) < 0)
}

func (a *API) listChallenges(w http.ResponseWriter, r *http.Request, _ *caller) error {
	cr, err := a.challengeReader()
	if err != nil {
		return err
	}
	f, err := parseChallengeFilter(r)
	if err != nil {
		return err
	}
	now := a.cfg.Now().Unix()
	var out []*record.Challenge
	cr.Challenges(func(c *record.Challenge) bool {
		if f.match(c, now) {
			out = append(out, c)
		}
		return true
	})
	slices.SortFunc(out, func(x, y *record.Challenge) int {
		return challengeKey{x.Created, x.ID}.compare(challengeKey{y.Created, y.ID})
	})
	list := ChallengeList{Challenges: []*record.Challenge{}}
	for i, c := range out {
		if i == f.limit {
			last := list.Challenges[len(list.Challenges)-1]
			list.Next = encodeChallengeCursor(challengeKey{last.Created, last.ID})
			break
		}
		list.Challenges = append(list.Challenges, a.shown(c))
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func encodeChallengeCursor(k challengeKey) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(k.created, 10) + ":" + k.id))
}

func decodeChallengeCursor(s string) (challengeKey, error) {
	bad := errorf(http.StatusBadRequest, "invalid cursor %q: pass the next value of the previous page", s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return challengeKey{}, bad
	}
	t, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(t, 10, 64)
	if !ok || err != nil {
		return challengeKey{}, bad
	}
	return challengeKey{created: n, id: id}, nil
}
