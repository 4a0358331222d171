package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/wlns/wlns/bench/internal/kit"
)

const gib = 1 << 30

// memAvailable is MemAvailable from /proc/meminfo, in bytes.
func memAvailable() float64 { return kit.KibField("/proc/meminfo", "MemAvailable:") * 1024 }

// diskFree is the space left to unprivileged users on dir's file system.
func diskFree(dir string) (float64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("reading free space of %s: %w", dir, err)
	}
	return float64(st.Bavail) * float64(st.Bsize), nil
}

// need is what a run expects to use: RSS of all wlns processes at once,
// and disk for the import files and data folders.
func need(c config) (mem, disk float64) {
	nodes := nodesAtOnce(c)
	recs := float64(c.records() + c.streamN)
	mem = recs*float64(c.estBytes)*float64(nodes) + 0.5*gib
	files := recs // ~110 bytes per NDJSON line
	if c.pipe {
		files = float64(c.streamN) // the main import is never written
	}
	disk = files*110 + recs*float64(c.estDisk)*float64(nodes)
	return mem, disk
}

// checkResources refuses, before anything is generated, a run the
// machine cannot hold: memory (expected RSS plus the -min-free floor
// against MemAvailable) and disk (the work folder's file system).
func checkResources(c config, work string) error {
	mem, disk := need(c)
	avail := memAvailable()
	if avail > 0 && mem+c.minFree*gib > avail {
		return fmt.Errorf("refusing: %d records on %d node(s) at -est-bytes %d need about %.1f GiB of RAM plus the -min-free %.1f GiB floor, "+
			"and only %.1f GiB is available (MemAvailable); use a smaller -n, or a lower -est-bytes once a compact index measures less",
			c.records()+c.streamN, nodesAtOnce(c), c.estBytes, mem/gib, c.minFree, avail/gib)
	}
	free, err := diskFree(work)
	if err != nil {
		return err
	}
	if disk > 0.9*free {
		return fmt.Errorf("refusing: the import files and %d data folder(s) need about %.1f GiB at -est-disk %d and %s has %.1f GiB free",
			nodesAtOnce(c), disk/gib, c.estDisk, work, free/gib)
	}
	return nil
}

// nodesAtOnce is the number of wlns processes the run holds at once.
func nodesAtOnce(c config) int {
	if c.catchup {
		return c.voters + 1
	}
	return c.voters
}

// errLowMemory ends a run whose machine ran short of memory.
var errLowMemory = errors.New("stopped: the machine ran short of memory")

// watchMemory cancels the run, with errLowMemory, as soon as MemAvailable
// falls under the -min-free floor; it checks every 500 ms until ctx ends.
func watchMemory(ctx context.Context, cancel context.CancelCauseFunc, minFree float64) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if avail := memAvailable(); avail > 0 && avail < minFree*gib {
			cancel(fmt.Errorf("%w: MemAvailable %.2f GiB < -min-free %.2f GiB", errLowMemory, avail/gib, minFree))
			return
		}
	}
}
