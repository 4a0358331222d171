package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/wlns/wlns/command"
)

// maxReqID bounds the Idempotency-Key header.
const maxReqID = 128

// reqID returns the request's Idempotency-Key, or a fresh random ID.
func reqID(r *http.Request) (string, error) {
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		if len(k) > maxReqID {
			return "", errorf(http.StatusBadRequest, "Idempotency-Key longer than %d bytes", maxReqID)
		}
		return k, nil
	}
	return randomID()
}

func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a request ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// NewSecret returns a fresh token secret: 32 random bytes, base64url.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a token secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// propose builds an envelope around body and applies it. A rejection comes
// back as the error (a *command.Rejection); a store that cannot apply
// anything now comes back as 503, except a write the store spooled, which
// comes back as a *spooledError answered 202 (see spool.go).
func (a *API) propose(ctx context.Context, r *http.Request, t command.Type, body any) (command.Result, error) {
	id, err := reqID(r)
	if err != nil {
		return command.Result{}, err
	}
	env, err := command.New(t, a.cfg.Now().Unix(), id, body)
	if err != nil {
		return command.Result{}, err
	}
	return a.applyOrSpool(ctx, env)
}

// apply applies env and turns its rejection into an error.
func (a *API) apply(ctx context.Context, env *command.Envelope) (command.Result, error) {
	res, err := a.store.Apply(ctx, env)
	if err != nil {
		return res, unavailable(err)
	}
	if rj := rejection(res); rj != nil {
		return res, rj
	}
	return res, nil
}

func unavailable(err error) error {
	if errors.Is(err, command.ErrInvalidEnvelope) {
		// Refused before the log: the request's fault, and nothing changed.
		return errorf(http.StatusBadRequest, "%v", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errorf(http.StatusServiceUnavailable, "store did not apply the change in time: %v", err)
	}
	return errorf(http.StatusServiceUnavailable, "store cannot apply changes now: %v", err)
}

// rejection returns the rejection of res, or of the first rejected command
// of a batch with its Index set.
func rejection(res command.Result) *command.Rejection {
	if res.Err != nil {
		return res.Err
	}
	for i, sub := range res.Results {
		if sub.Err != nil {
			rj := *sub.Err
			rj.Index = i
			return &rj
		}
	}
	return nil
}

// missingAfter answers a write whose record is not in this node's index
// after the store reported it applied. A retried Idempotency-Key whose first
// request was undone since is a conflict. Otherwise the cluster committed
// the write but this node has not applied it yet (a follower cut off from
// the leader right after forwarding it, for longer than the apply wait), or
// a later write already changed it: the write succeeded, so the answer is
// success, saying that the record cannot be shown from this node now.
func missingAfter(w http.ResponseWriter, res command.Result, what string) error {
	if res.Duplicate {
		return errorf(http.StatusConflict, "request already applied under this Idempotency-Key; %s has changed since", what)
	}
	writeJSON(w, createdStatus(res), committedNotVisible{Committed: true, ID: res.ID,
		Message: what + " was committed by the cluster, but this node has not applied it yet (or a later write changed it); read it again later or from another node"})
	return nil
}

// committedNotVisible is the answer to a committed write this node cannot
// show yet.
type committedNotVisible struct {
	Committed bool   `json:"committed"`
	ID        uint64 `json:"id,omitempty"`
	Message   string `json:"message"`
}
