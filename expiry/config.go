package expiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
)

// Defaults of Config.
const (
	DefaultTouchInterval = 10 * time.Minute
	DefaultGranularity   = 7 * 24 * time.Hour
	DefaultSweepInterval = time.Hour
	DefaultWindow        = 180 * 24 * time.Hour
	// DefaultMaxBody bounds the body of one touch command.
	DefaultMaxBody = 256 << 10
)

// Proposer is what expiry needs of the store: proposing a command (a
// follower forwards it to the leader) and knowing whether this node leads.
type Proposer interface {
	Apply(ctx context.Context, e *command.Envelope) (command.Result, error)
	IsLeader() bool
}

// Windows are how long each kind of record lives without a query; zero
// means the kind never expires.
type Windows struct {
	// Pairs is the window of address pairs.
	Pairs time.Duration
	// DomainPairs is the window of domain-wide pairs.
	DomainPairs time.Duration
	// Verps is the window of VERP sources.
	Verps time.Duration
	// Relays is the window of registered lone relays (once they have no
	// pairs or VERP sources left).
	Relays time.Duration
	// Groups is the window of relay groups (once they have no pairs or VERP
	// sources left); zero by default: groups never expire.
	Groups time.Duration
}

// DefaultWindows are 180 days for everything but groups.
func DefaultWindows() Windows {
	return Windows{Pairs: DefaultWindow, DomainPairs: DefaultWindow, Verps: DefaultWindow, Relays: DefaultWindow}
}

// Config configures a Runner.
type Config struct {
	// Index is the local index the touch loop reads.
	Index index.Reader
	// Store proposes commands.
	Store Proposer
	// Windows are the expiry windows per kind.
	Windows Windows
	// TouchInterval is how often this node reports what it saw.
	TouchInterval time.Duration
	// Granularity: a record whose replicated last-queried time is less
	// than this older than its local seen mark is not reported again.
	Granularity time.Duration
	// SweepInterval is how often the leader proposes an expire command.
	SweepInterval time.Duration
	// MaxBody bounds one touch command's body, bytes.
	MaxBody int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Registerer receives the touch metrics; nil: none.
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.TouchInterval <= 0 {
		c.TouchInterval = DefaultTouchInterval
	}
	if c.Granularity <= 0 {
		c.Granularity = DefaultGranularity
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// ErrDuration means a duration flag did not parse.
var ErrDuration = errors.New("invalid duration")

// ParseDuration reads a Go duration ("90s", "2h30m") or a number of days
// ("180d"); "0" and "never" mean zero (never expires).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "0", "never":
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%w %q: want a number of days like 180d", ErrDuration, s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%w %q: want e.g. 180d, 12h or 30s", ErrDuration, s)
	}
	return d, nil
}
