package main

import (
	"context"
	"time"

	"github.com/wlns/wlns/activity"
	"github.com/wlns/wlns/index"
)

// foldEvery is how often the answer counter grows its table to new
// entities and turns the day.
const foldEvery = time.Minute

// newActivity makes the node's count of DNS answers per entity and day
// (the zone counts, the console draws) over ix, folded once a minute
// until the node stops.
func (n *node) newActivity(ix index.Reader) {
	n.answers = activity.New(time.Now(), ix.Load().EntityIDBound())
	n.watch(func(ctx context.Context) {
		t := time.NewTicker(foldEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				n.answers.Fold(now, ix.Load().EntityIDBound())
			}
		}
	})
}
