package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Store is what the service needs of the replicated store.
type Store interface {
	// Apply proposes a command and returns once it is applied (or
	// rejected); a follower forwards it to the leader.
	Apply(ctx context.Context, e *command.Envelope) (command.Result, error)
	// Index returns the in-memory index.
	Index() index.Reader
	// Challenge returns the challenge whose token hashes to tokenHash, or nil.
	Challenge(tokenHash string) *record.Challenge
	// ChallengeByID returns the challenge with ID id, or nil.
	ChallengeByID(id string) *record.Challenge
	// Challenges calls fn for every challenge until it returns false.
	Challenges(fn func(*record.Challenge) bool)
	// NodeID names this node.
	NodeID() string
}

// Spooler is implemented by a store that accepts writes while the cluster
// has no quorum and commits them later (raftstore.Store); confirmations and
// reports use it when present, so a sender's click is not lost to a
// partition. spooled is true when e was stored for later instead of applied.
type Spooler interface {
	ApplyOrSpool(ctx context.Context, e *command.Envelope) (res command.Result, spooled bool, err error)
}

// OpenFinder is implemented by a store that indexes open challenges by
// (kind, sender, list domain, entity); without it Request scans every
// stored challenge (about 30 ms per 100k).
type OpenFinder interface {
	OpenChallenge(kind record.ChallengeKind, sender, domain string, entity uint64) *record.Challenge
}

// SuppressionChecker is implemented by a store that can say whether a
// forgery report suppresses challenges to sender through entity at Unix
// time now (raftstore.Store); Request then refuses without a Raft write.
type SuppressionChecker interface {
	ChallengeSuppressed(sender string, entity uint64, now int64) bool
}

// Service is the verification service of one node.
type Service struct {
	cfg     Config
	store   Store
	metrics *metrics
	tls     *tls.Config
	pages   *pages
	// never is Config.NeverChallenge as a set.
	never map[string]bool

	// mu guards unsent: tokens of challenges whose mail failed, kept so a
	// later Request on this node can send it again (only the hash is
	// replicated).
	mu     sync.Mutex
	unsent map[string]*unsentMail
	// catchUp is the leader read unknown tokens wait for (Lookup).
	catchUp catchUps
}

// New builds the service. It returns ErrNotConfigured when cfg sets none of
// BaseURL, MailDomain and Relay.Addr, and a descriptive error when the
// configuration is incomplete or wrong.
func New(cfg Config, store Store) (*Service, error) {
	if !cfg.Configured() {
		return nil, ErrNotConfigured
	}
	if store == nil {
		return nil, fmt.Errorf("verify: nil store")
	}
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("verification config: %w", err)
	}
	tc, err := relayTLS(&cfg.Relay)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("registering verification metrics: %w", err)
	}
	p, err := newPages()
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, store: store, metrics: m, tls: tc, pages: p, never: neverSet(cfg.NeverChallenge),
		unsent: map[string]*unsentMail{}}, nil
}

// relayTLS builds the TLS client configuration for the relay.
func relayTLS(r *Relay) (*tls.Config, error) {
	host, _, _ := splitHostPort(r.Addr)
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: r.InsecureSkipVerify} //nolint:gosec // opt-in for test relays
	if r.CAFile != "" {
		pem, err := os.ReadFile(r.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading relay CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("relay CA file %s: no PEM certificates", r.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// now is the service clock in Unix seconds.
func (s *Service) now() int64 { return s.cfg.Now().Unix() }

// apply proposes env and returns the result, with a rejection as the
// Result's Err (not as the error).
func (s *Service) apply(ctx context.Context, env *command.Envelope) (command.Result, error) {
	res, err := s.store.Apply(ctx, env)
	if err != nil {
		return res, fmt.Errorf("applying %s: %w", env.Type, err)
	}
	return res, nil
}

// applyDurable proposes env through the spool when the store has one.
func (s *Service) applyDurable(ctx context.Context, env *command.Envelope) (command.Result, bool, error) {
	sp, ok := s.store.(Spooler)
	if !ok {
		res, err := s.apply(ctx, env)
		return res, false, err
	}
	res, spooled, err := sp.ApplyOrSpool(ctx, env)
	if err != nil {
		return res, false, fmt.Errorf("applying %s: %w", env.Type, err)
	}
	return res, spooled, nil
}
