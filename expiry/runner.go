package expiry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
)

// Runner runs the touch loop on every node and the sweep loop, which acts
// only while this node is the Raft leader.
type Runner struct {
	cfg Config
	m   *metrics
}

// New checks cfg and registers the metrics.
func New(cfg Config) (*Runner, error) {
	if cfg.Index == nil || cfg.Store == nil {
		return nil, errors.New("expiry: Index and Store are required")
	}
	cfg.setDefaults()
	r := &Runner{cfg: cfg, m: newMetrics()}
	if err := r.m.register(cfg.Registerer); err != nil {
		return nil, err
	}
	return r, nil
}

// Slack is what a sweep adds to every window: the granularity plus the
// touch interval (see Windows.Cutoffs).
func (r *Runner) Slack() time.Duration { return r.cfg.Granularity + r.cfg.TouchInterval }

// Windows returns the configured windows.
func (r *Runner) Windows() Windows { return r.cfg.Windows }

// Run runs both loops until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.loop(ctx, r.cfg.SweepInterval, func(ctx context.Context) error {
			if !r.cfg.Store.IsLeader() {
				return nil
			}
			return r.Sweep(ctx)
		})
	}()
	r.loop(ctx, r.cfg.TouchInterval, r.Touch)
	<-done
}

// loop calls f every interval until ctx ends; errors are logged.
func (r *Runner) loop(ctx context.Context, every time.Duration, f func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := f(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("expiry", "err", err)
		}
	}
}

// Touch reports every due record of the local index in touch commands.
// A failed chunk is reported again in the next round.
func (r *Runner) Touch(ctx context.Context) error {
	now := r.cfg.Now().Unix()
	bodies := Collect(r.cfg.Index.Load(), now, int64(r.cfg.Granularity/time.Second), r.cfg.MaxBody)
	for i := range bodies {
		e, err := command.New(command.Touch, now, "", bodies[i])
		if err != nil {
			return err
		}
		b, err := e.Encode()
		if err != nil {
			return err
		}
		res, err := r.cfg.Store.Apply(ctx, e)
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			return fmt.Errorf("proposing touch %d of %d: %w", i+1, len(bodies), err)
		}
		r.m.batches.Inc()
		r.m.bytes.Add(float64(len(b)))
	}
	return nil
}

// Sweep proposes one expire command with cutoffs from this node's clock.
func (r *Runner) Sweep(ctx context.Context) error {
	now := r.cfg.Now()
	body := r.cfg.Windows.Cutoffs(now, r.Slack())
	e, err := command.New(command.Expire, now.Unix(), "", body)
	if err != nil {
		return err
	}
	res, err := r.cfg.Store.Apply(ctx, e)
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if err != nil {
		return fmt.Errorf("proposing expire: %w", err)
	}
	r.cfg.Logger.Info("expiry sweep", "pairs_cutoff", body.Pairs, "relays_cutoff", body.Relays, "groups_cutoff", body.Groups)
	return nil
}

// Expiring lists what a sweep at or before until would delete; see
// Windows.Expiring.
func (r *Runner) Expiring(v *index.View, until time.Time, kind string, fn func(Item) bool) {
	r.cfg.Windows.Expiring(v, r.Slack(), until, kind, fn)
}
