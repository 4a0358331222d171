// Package admin is the HTTP JSON API of a wlns node: bearer-token auth with
// admin, postmaster, read and mta roles, the /v1 endpoints for pairs, VERP
// sources, relays, groups, tokens, challenges and bulk import, plus
// /healthz, /readyz and /metrics.
//
// It owns request parsing, validation, authorisation and the mapping of
// command results to HTTP statuses. It reads records from the index's read
// side and changes them only by proposing command envelopes through the
// Store interface it declares; it must not touch Raft, the DNS server or the
// index's write side.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/delegcheck"
	"github.com/wlns/wlns/expiry"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Store is what the API needs from the replicated store.
type Store interface {
	// Apply proposes a command and returns once it is applied (or rejected).
	Apply(ctx context.Context, e *command.Envelope) (command.Result, error)
	// Index returns the in-memory index the store applies commands into.
	Index() index.Reader
	// Token returns the token whose secret hashes to hash (hex SHA-256), or nil.
	Token(hash string) *record.Token
	// Tokens returns every token.
	Tokens() []*record.Token
	// IsLeader reports whether this node is the Raft leader.
	IsLeader() bool
}

// Config configures the API. Zero values take the documented defaults.
type Config struct {
	// NodeID is reported by /v1/status.
	NodeID string
	// Ready reports whether the node may serve (store ready, DNS listening);
	// /readyz answers 503 with its error. Nil means always ready.
	Ready func(ctx context.Context) error
	// Leader returns the current leader's Raft ID and address for
	// /v1/status (empty when none is known); optional.
	Leader func() (id, addr string)
	// Cluster serves GET /v1/cluster and member removal; nil answers 404.
	Cluster Cluster
	// Logger receives request errors; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the HTTP metrics; default none.
	Registerer prometheus.Registerer
	// Gatherer is served on /metrics; default none (404).
	Gatherer prometheus.Gatherer
	// MaxBody limits request bodies other than imports; default 1 MiB.
	MaxBody int64
	// ImportBatch is the default number of import lines per command; default 1000.
	ImportBatch int
	// Timeout bounds one request other than an import; default 30s.
	Timeout time.Duration
	// Now is the clock used for command times; default time.Now.
	Now func() time.Time
	// Expiring lists what expiry sweeps would delete by a time, for GET
	// /v1/expiring (expiry.Runner.Expiring); nil answers 404.
	Expiring func(v *index.View, until time.Time, kind string, fn func(expiry.Item) bool)
	// Verify serves POST /v1/challenges; nil (verification not configured
	// on this node) answers 503.
	Verify Verifier
	// Apex is the zone's apex, for the cut names of delegations; empty:
	// none are shown.
	Apex string
	// DelegationCheck returns this node's latest lame-delegation check of
	// a delegated prefix (delegcheck.Checker.Result); nil: checks off.
	DelegationCheck func(netip.Prefix) *delegcheck.Result
	// Context is the node's: the suggested groups' runs give up when it
	// ends (SuggestionCache.Wait waits for them); default
	// context.Background().
	Context context.Context
}

// Defaults for Config.
const (
	DefaultMaxBody     = 1 << 20
	DefaultImportBatch = 1000
	DefaultTimeout     = 30 * time.Second
	// MaxImportBatch caps ?batch= on imports.
	MaxImportBatch = 10000
)

func (c *Config) setDefaults() {
	if c.Context == nil {
		c.Context = context.Background()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.ImportBatch <= 0 {
		c.ImportBatch = DefaultImportBatch
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// API serves the HTTP API of one node.
type API struct {
	cfg     Config
	store   Store
	metrics *httpMetrics
	mux     *http.ServeMux
	// maxBatchBytes ends an import batch early; a field so tests can shrink it.
	maxBatchBytes int
	// suggest caches GET /v1/suggestions' list (shared with the console:
	// SuggestionCache).
	suggest *SuggestionCache
}

// New builds the API over store. It fails when its metrics cannot be
// registered.
func New(cfg Config, store Store) (*API, error) {
	if store == nil {
		return nil, errors.New("admin: nil store")
	}
	cfg.setDefaults()
	m, err := newHTTPMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("registering HTTP metrics: %w", err)
	}
	a := &API{cfg: cfg, store: store, metrics: m, mux: http.NewServeMux(), maxBatchBytes: maxBatchBytes, suggest: NewSuggestionCache(cfg.Context)}
	a.routes()
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.dispatch(w, r) }

// NewServer returns an http.Server for h with the timeouts an exposed admin
// port needs. Per-request read and write deadlines are set by the API itself,
// so that long imports are not cut off.
func NewServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
