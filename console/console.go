package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/activity"
	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/delegcheck"
	"github.com/wlns/wlns/expiry"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Path is where the console is mounted on the HTTP listener.
const Path = "/console/"

// Store is what the console needs of the replicated store.
type Store interface {
	// Apply proposes a command and returns once it is applied (or rejected).
	Apply(ctx context.Context, e *command.Envelope) (command.Result, error)
	// Index returns the in-memory index (read side only is used).
	Index() index.Reader
	// Token returns the token whose secret hashes to hash, or nil.
	Token(hash string) *record.Token
	// Tokens returns every token.
	Tokens() []*record.Token
	// IsLeader reports whether this node is the Raft leader.
	IsLeader() bool
	// Challenges calls fn for every stored challenge until it returns false.
	Challenges(fn func(*record.Challenge) bool)
}

// Mailer sends the sign-in link; verify.Service does, through the relay
// challenge mail goes through.
type Mailer interface {
	SendNotice(ctx context.Context, rcpt, subject, text string) error
}

// Defaults of Config.
const (
	DefaultLinkTTL    = 15 * time.Minute
	DefaultSessionTTL = 12 * time.Hour
	// DefaultLookupRate is how many look-ups one client network (/24, /48)
	// may make per minute on the public page.
	DefaultLookupRate = 30
)

// Config configures the console. Zero values take the documented defaults.
type Config struct {
	// BaseURL is the public base URL sign-in links start with (e.g.
	// https://wl.example.org); required for magic links.
	BaseURL string
	// Mailer sends magic links; nil: sign-in by token only.
	Mailer Mailer
	// SecureCookies marks cookies Secure on plain-HTTP requests too (a
	// node behind a TLS-terminating proxy); over TLS they always are.
	SecureCookies bool
	// LinkTTL is how long a magic link works; default 15 minutes.
	LinkTTL time.Duration
	// SessionTTL is how long a session lasts; default 12 hours.
	SessionTTL time.Duration
	// LookupRate is the public look-up's limit per client network per
	// minute; default 30.
	LookupRate int
	// Challenger opens challenges: the node's verification service, as
	// the API's POST /v1/challenges uses it; nil hides the look-up
	// page's "send a new challenge" button.
	Challenger admin.Verifier
	// ChallengeRate is how many new challenges one client network may
	// ask for on the look-up page per hour; default 5.
	ChallengeRate int
	// Resolver answers the forward-confirmed reverse DNS check of a relay
	// registered in the console (NewResolver); nil: the system's.
	Resolver *net.Resolver
	// Expiring lists what expiry would delete by a time
	// (expiry.Runner.Expiring); nil hides the page.
	Expiring func(v *index.View, until time.Time, kind string, fn func(expiry.Item) bool)
	// Cluster lists the members for the admin's cluster page; nil hides it.
	Cluster admin.Cluster
	// Gatherer is this node's metrics registry: the cluster page draws
	// the DNS query rate from it; nil: no chart.
	Gatherer prometheus.Gatherer
	// SampleEvery is how often the query rate is sampled for the chart
	// (it keeps 60 samples); default one minute.
	SampleEvery time.Duration
	// Apex is the zone's apex; the delegations page shows the cut names
	// under it (none when empty).
	Apex string
	// DelegationCheck returns this node's latest lame-delegation check of
	// a delegated prefix (delegcheck.Checker.Result); nil: checks are off.
	DelegationCheck func(netip.Prefix) *delegcheck.Result
	// Suggestions is the node's cache of suggested groups, the API's
	// (admin.API.SuggestionCache); nil: the console keeps its own.
	Suggestions *admin.SuggestionCache
	// Answers is this node's count of DNS answers per entity and day
	// (the zone's); nil: the activity page draws no answers from it.
	Answers *activity.Counter
	// Peers asks the other members for their statistics (answers per
	// day, query rate) over the inter-node port; nil: only this node's
	// are drawn.
	Peers Peers
	// NodeID names this node on the cluster page.
	NodeID string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	if c.LinkTTL <= 0 {
		c.LinkTTL = DefaultLinkTTL
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.LookupRate <= 0 {
		c.LookupRate = DefaultLookupRate
	}
	if c.ChallengeRate <= 0 {
		c.ChallengeRate = DefaultChallengeRate
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Console serves the web console of one node.
type Console struct {
	cfg     Config
	store   Store
	pages   *pages
	mux     *http.ServeMux
	lookups *limiter
	// rechallenges limits the look-up page's challenge requests.
	rechallenges *limiter
	links        *limiter
	qps          *qpsSampler // nil without a Gatherer
	// suggest caches the suggested groups: Config.Suggestions, or its own.
	suggest *admin.SuggestionCache
	// groups finds the group a sign-in form names.
	groups index.GroupNames
}

// New builds the console over store.
func New(cfg Config, store Store) (*Console, error) {
	if store == nil {
		return nil, errors.New("console: nil store")
	}
	cfg.setDefaults()
	if cfg.Mailer != nil && cfg.BaseURL == "" {
		return nil, errors.New("console: magic links need the public base URL")
	}
	p, err := newPages(templateFS)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	c := &Console{cfg: cfg, store: store, pages: p, mux: http.NewServeMux(),
		lookups: newLimiter(cfg.LookupRate, time.Minute), links: newLimiter(5, time.Hour),
		rechallenges: newLimiter(cfg.ChallengeRate, time.Hour), suggest: cfg.Suggestions}
	if c.suggest == nil {
		c.suggest = &admin.SuggestionCache{}
	}
	if cfg.Gatherer != nil {
		c.qps = &qpsSampler{g: cfg.Gatherer}
	}
	c.routes()
	return c, nil
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static") // the directory is embedded above
	c.mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", cacheable(http.FileServerFS(static))))
	c.mux.Handle("GET /console/{$}", c.public(c.home))
	c.mux.Handle("GET /console/signin", c.public(c.signinPage))
	c.mux.Handle("POST /console/signin/token", c.public(c.signinToken))
	c.mux.Handle("POST /console/signin/link", c.public(c.requestLink))
	c.mux.Handle("GET /console/link/{secret}", c.public(c.linkPage))
	c.mux.Handle("POST /console/link/{secret}", c.public(c.useLink))
	c.mux.Handle("GET /console/lookup", c.public(c.lookup))
	c.mux.Handle("POST /console/lookup/challenge", c.public(c.rechallenge))

	c.mux.Handle("POST /console/signout", c.form(c.signout))
	c.mux.Handle("GET /console/relays", c.page(c.relays))
	c.mux.Handle("GET /console/relays/new", c.page(c.relayForm))
	c.mux.Handle("POST /console/relays", c.form(c.registerRelay))
	c.mux.Handle("GET /console/relays/edit", c.page(c.relayEditForm))
	c.mux.Handle("POST /console/relays/edit", c.form(c.saveRelay))
	c.mux.Handle("GET /console/relays/delete", c.page(c.confirmDelete(false)))
	c.mux.Handle("POST /console/relays/delete", c.form(c.deleteEntity(false)))
	c.mux.Handle("GET /console/groups/delete", c.page(c.confirmDelete(true)))
	c.mux.Handle("POST /console/groups/delete", c.form(c.deleteEntity(true)))
	c.mux.Handle("GET /console/groups", c.page(c.groupForm))
	c.mux.Handle("POST /console/groups", c.form(c.saveGroup))
	c.mux.Handle("GET /console/delegations", c.page(c.delegations))
	c.mux.Handle("POST /console/delegations", c.form(c.delegate))
	c.mux.Handle("POST /console/delegations/delete", c.form(c.undelegate))
	c.mux.Handle("GET /console/pairs", c.page(c.pairs))
	c.mux.Handle("POST /console/pairs", c.form(c.addPair))
	c.mux.Handle("POST /console/pairs/delete", c.form(c.deletePair))
	c.mux.Handle("GET /console/expiring", c.page(c.expiring))
	c.mux.Handle("POST /console/pin", c.form(c.pin))
	c.mux.Handle("GET /console/suggestions", c.page(c.suggestions))
	c.mux.Handle("POST /console/suggestions/accept", c.form(c.acceptSuggestion))
	c.mux.Handle("POST /console/suggestions/dismiss", c.form(c.dismissSuggestion))
	c.mux.Handle("GET /console/challenges", c.page(c.challenges))
	c.mux.Handle("GET /console/activity", c.page(c.activity))
	c.mux.Handle("GET /console/cluster", c.page(c.cluster))
	c.mux.Handle("/console/", c.public(c.notFound))
}

// Run deletes console tokens past their lifetime while this node leads,
// once a minute, and samples the query rate, until ctx ends.
func (c *Console) Run(ctx context.Context) {
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	sample := time.NewTicker(c.cfg.SampleEvery)
	defer sample.Stop()
	c.sampleQPS()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			if c.store.IsLeader() {
				c.sweepTokens(ctx)
			}
		case <-sample.C:
			c.sampleQPS()
		}
	}
}

func (c *Console) sampleQPS() {
	if c.qps == nil {
		return
	}
	if err := c.qps.sample(time.Now()); err != nil {
		c.cfg.Logger.Warn("console: sampling the query rate", "err", err)
	}
}

func cacheable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}
