package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/wlns/wlns/bench/internal/kit"
)

// lanTrailingLogs is the LAN profile's TrailingLogs: a joining node whose
// first needed entry is older than the leader's last snapshot minus this
// many entries gets the snapshot instead of the log.
const lanTrailingLogs = 10240

// snapRun is what the snapshot scenario measured.
type snapRun struct {
	load              string
	tree              string        // the commit built, and files changed in the work tree
	fill              time.Duration // relays + padding + pairs into two voters
	pairs             int
	snapIndex         uint64 // leader's newest snapshot when the mirror joins
	snapBytes         int64
	ready, caught     time.Duration
	restored          time.Duration // launch to "restored snapshot" in the mirror's log; 0: none
	restoreTook       time.Duration // the restore's own duration, from that line
	transferFrom      time.Duration // launch to the snapshot's transfer starting ("creating new snapshot")
	transferTo        time.Duration // launch to it being on disk ("copied to local snapshot")
	restoredSerial    uint64        // the index the restored snapshot covered
	snapLog           []string      // the mirror's log lines about snapshots, timed from launch
	snapEvents        []string      // every node's snapshots taken and sent, timed from the baseline's start
	promoted          time.Duration // launch to voter; 0: not seen
	windows           []window
	cpu               cpuSeries
	writes, probes    []op
	mirrorRSS         float64
	leaderSerialAtEnd int64
}

// measureSnapshot forms a two-voter cluster, fills it, then times a third
// node's join (snapshot streamed over the inter-node port, restored, log
// replayed) while writers and DNS probes keep going.
func measureSnapshot(ctx context.Context, c config, work string, out io.Writer) (*snapRun, error) {
	r := &snapRun{}
	load, _ := os.ReadFile("/proc/loadavg")
	r.load = strings.TrimSpace(string(load))
	r.tree = treeState(ctx)
	bin, err := kit.BuildWlns(ctx, work)
	if err != nil {
		return nil, err
	}
	if err := kit.RunCmd(ctx, bin, "ca", "init", "--dir", filepath.Join(work, "ca")); err != nil {
		return nil, err
	}
	leader, err := kit.StartNode(ctx, kit.NodeSpec{Bin: bin, Work: work, ID: "n1", Apex: zone, CPUs: c.pinOthers()})
	if err != nil {
		return nil, err
	}
	defer leader.Stop()
	follower, err := kit.StartNode(ctx, kit.NodeSpec{Bin: bin, Work: work, ID: "n2", Apex: zone, Join: leader.Ready.Raft, CPUs: c.pinOthers()})
	if err != nil {
		return nil, err
	}
	defer follower.Stop()
	hc := &http.Client{Timeout: 30 * time.Second}
	if err := leader.WaitVoters(ctx, hc, 2, 2*time.Minute); err != nil {
		return nil, err
	}
	fmt.Fprintln(out, "two voters formed")

	t0 := time.Now()
	if err := fill(ctx, c, hc, bin, work, leader); err != nil {
		return nil, err
	}
	want, err := leader.Status(ctx, hc)
	if err != nil {
		return nil, err
	}
	r.pairs = want.Counts.Pairs
	// A snapshot now (the backup endpoint takes one) covers the whole fill
	// and lets raft drop the log before it: the mirror must get it.
	if _, _, err := leader.Call(ctx, &http.Client{Timeout: 10 * time.Minute}, "GET", "/v1/backup", nil); err != nil {
		return nil, fmt.Errorf("taking a snapshot through GET /v1/backup: %w", err)
	}
	if err := follower.WaitCaughtUp(ctx, hc, want, 30*time.Minute); err != nil {
		return nil, err
	}
	r.fill = time.Since(t0)
	if r.snapIndex, r.snapBytes, err = newestSnapshot(filepath.Join(work, "data-n1")); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "filled two voters with %d pairs in %.1f s; leader snapshot at index %d, %.1f MB\n",
		r.pairs, r.fill.Seconds(), r.snapIndex, float64(r.snapBytes)/1e6)

	if err := r.streamAndJoin(ctx, c, hc, bin, work, leader, follower, out); err != nil {
		return nil, err
	}
	return r, nil
}

// streamAndJoin runs the writers, the probes and a CPU sampler through
// the windows and launches the mirror after the baseline.
func (r *snapRun) streamAndJoin(ctx context.Context, c config, hc *http.Client, bin, work string, leader, follower *kit.Node, out io.Writer) error {
	var writes, probes recorder
	var mirrorP atomic.Pointer[kit.Node]
	mark := func() { r.cpu.add(markCPU(leader, follower, mirrorP.Load())) }
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range c.writers {
		wg.Go(func() { timedWrites(wctx, hc, leader, w, &writes) })
	}
	wg.Go(func() { probeDNS(wctx, c, follower, &probes) })
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for sleepTick(wctx, t) {
			mark()
		}
	})
	defer func() { stop(); wg.Wait() }()

	mark()
	start := time.Now()
	if err := kit.Sleep(ctx, c.baseline); err != nil {
		return err
	}
	mirror, err := kit.LaunchNode(ctx, kit.NodeSpec{Bin: bin, Work: work, ID: "n3", Apex: zone, Join: leader.Ready.Raft, CPUs: c.pinMirror()})
	if err != nil {
		return err
	}
	defer mirror.Stop()
	mirrorP.Store(mirror)
	mark()
	fmt.Fprintf(out, "baseline %.0f s done; n3 launched\n", mirror.Started.Sub(start).Seconds())
	wg.Go(func() { r.watchPromotion(wctx, hc, leader, mirror) })
	if err := mirror.WaitReady(ctx, 30*time.Minute); err != nil {
		return err
	}
	r.ready = mirror.ReadyAfter
	if err := r.waitMirror(ctx, hc, leader, mirror); err != nil {
		return err
	}
	caught := time.Now()
	mark()
	r.caught = caught.Sub(mirror.Started)
	r.mirrorRSS = mirror.RSSMiB()
	fmt.Fprintf(out, "n3 ready after %.1f s, caught up after %.1f s\n", r.ready.Seconds(), r.caught.Seconds())
	if err := kit.Sleep(ctx, c.after); err != nil {
		return err
	}
	end := time.Now()
	mark()
	stop()
	wg.Wait()
	r.writes, r.probes = writes.all(), probes.all()
	if st, err := leader.Status(ctx, hc); err == nil {
		r.leaderSerialAtEnd = st.Serial
	}
	r.readMirrorLog(mirror)
	for _, n := range []*kit.Node{leader, follower, mirror} {
		r.snapEvents = append(r.snapEvents, snapshotEvents(n, start, end)...)
	}
	slices.Sort(r.snapEvents)
	r.windows = r.makeWindows(start, mirror.Started, caught, end)
	return nil
}

// makeWindows cuts the run into baseline, joining (split at the snapshot
// restore when the mirror's log shows one) and after.
func (r *snapRun) makeWindows(start, join, caught, end time.Time) []window {
	w := func(name string, from, to time.Time) window {
		return window{name: name, from: from, to: to, cpu0: r.cpu.at(from), cpu1: r.cpu.at(to)}
	}
	ws := []window{w("baseline", start, join), w("new node joining: launch to caught up", join, caught)}
	if restored := join.Add(r.restored); r.restored > 0 && restored.Before(caught) {
		ws = append(ws, w("… launch to snapshot restored", join, restored), w("… restored to caught up", restored, caught))
	}
	return append(ws, w("after", caught, end))
}

// sleepTick waits for the ticker's next tick; false when ctx ended.
func sleepTick(ctx context.Context, t *time.Ticker) bool {
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// waitMirror polls until the mirror has applied what the leader had
// applied one poll earlier (writes go on, so equality is a moving target),
// noting when the leader lists it as a voter.
func (r *snapRun) waitMirror(ctx context.Context, hc *http.Client, leader, mirror *kit.Node) error {
	deadline := time.Now().Add(30 * time.Minute)
	var prev int64
	for {
		ls, lerr := leader.Status(ctx, hc)
		ms, merr := mirror.Status(ctx, hc)
		if lerr == nil && merr == nil && prev > 0 && ms.Serial >= prev {
			return nil
		}
		if lerr == nil {
			prev = ls.Serial
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mirror not caught up after 30 minutes: %+v %v (leader %+v %v)", ms, merr, ls, lerr)
		}
		if err := kit.Sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// fill imports the relays, pads the log with single writes so that it is
// longer than the LAN profile's trailing logs (else a joining node gets
// the log, not a snapshot), then imports the pairs in big batches.
func fill(ctx context.Context, c config, hc *http.Client, bin, work string, leader *kit.Node) error {
	relays, pairs := filepath.Join(work, "relays.ndjson"), filepath.Join(work, "pairs.ndjson")
	if err := writeSplit(c, relays, pairs); err != nil {
		return err
	}
	imp := func(path string) error {
		return kit.RunCmd(ctx, bin, "import", "--server", "http://"+leader.Ready.HTTP, "--token", leader.Token, "--batch", "10000", path)
	}
	if err := imp(relays); err != nil {
		return err
	}
	if err := pad(ctx, hc, leader, c.logPad); err != nil {
		return err
	}
	return imp(pairs)
}

// writeSplit writes the relays and the pairs of writeData as two files.
func writeSplit(c config, relays, pairs string) error {
	err := writeLines(relays, func(w *bufio.Writer) {
		for i := range c.relays {
			fmt.Fprintf(w, `{"kind":"relay","ip":"%s","contact":"postmaster@bench.invalid"}`+"\n", relayAddr(i))
		}
	})
	if err != nil {
		return err
	}
	return writeLines(pairs, func(w *bufio.Writer) {
		for i := range c.pairs {
			fmt.Fprintf(w, `{"kind":"pair","sender":"%s","ip":"%s"}`+"\n", sender(i), relayAddr(i%c.relays))
		}
	})
}

// pad commits n single-pair writes, each its own log entry: two at a time,
// because the leader commits more concurrent writes than that in shared
// log entries (raftstore's group commit).
func pad(ctx context.Context, hc *http.Client, leader *kit.Node, n int) error {
	const workers = 2
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				body := fmt.Sprintf(`{"sender":"pad%d@example.net","ip":"%s"}`, i, relayAddr(i%256))
				code, b, err := leader.Call(ctx, hc, "POST", "/v1/pairs", []byte(body))
				if err == nil && code != http.StatusOK && code != http.StatusCreated {
					err = fmt.Errorf("%d %s", code, b)
				}
				if err != nil {
					errs <- fmt.Errorf("padding write %d: %w", i, err)
					return
				}
			}
		})
	}
	var err error
feed:
	for i := range n {
		select {
		case jobs <- i:
		case err = <-errs:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	return err
}

// timedWrites writes new pairs into the leader until ctx ends, recording
// each write's start, latency and outcome.
func timedWrites(ctx context.Context, hc *http.Client, leader *kit.Node, w int, rec *recorder) {
	for i := 0; ctx.Err() == nil; i++ {
		body := fmt.Sprintf(`{"sender":"live%d-%d@example.org","ip":"%s"}`, w, i, relayAddr(i%256))
		start := time.Now()
		code, _, err := leader.Call(ctx, hc, "POST", "/v1/pairs", []byte(body))
		if ctx.Err() != nil {
			return
		}
		rec.addOp(op{start: start, took: time.Since(start), ok: err == nil && (code == http.StatusOK || code == http.StatusCreated),
			spooled: err == nil && code == http.StatusAccepted})
	}
}

// probeDNS asks the follower for listed pairs at c.probeRate per second;
// a probe succeeds when it is answered with an A record within a second.
func probeDNS(ctx context.Context, c config, n *kit.Node, rec *recorder) {
	if c.probeRate <= 0 {
		return
	}
	cl := &dns.Client{Net: "udp", Timeout: time.Second}
	t := time.NewTicker(time.Second / time.Duration(c.probeRate))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		j := (i * 7919) % c.pairs
		local, domain, _ := strings.Cut(sender(j), "@")
		a := strings.Split(relayAddr(j%c.relays), ".")
		m := new(dns.Msg)
		m.SetQuestion(fmt.Sprintf("%s.%s.%s.%s.%s.%s.sender.%s.", local, domain, a[3], a[2], a[1], a[0], zone), dns.TypeA)
		start := time.Now()
		resp, _, err := cl.ExchangeContext(ctx, m, n.Ready.DNSUDP)
		if ctx.Err() != nil {
			return
		}
		rec.add(start, err == nil && resp.Rcode == dns.RcodeSuccess && len(resp.Answer) > 0)
	}
}

// watchPromotion notes when the leader first lists three voters.
func (r *snapRun) watchPromotion(ctx context.Context, hc *http.Client, leader, mirror *kit.Node) {
	for ctx.Err() == nil {
		if v, err := leader.Voters(ctx, hc); err == nil && v >= 3 {
			r.promoted = time.Since(mirror.Started)
			return
		}
		if kit.Sleep(ctx, 200*time.Millisecond) != nil {
			return
		}
	}
}

// treeState names the commit the benchmark builds and any uncommitted
// changes to tracked files, which the build includes.
func treeState(ctx context.Context) string {
	head, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown (not a git work tree)"
	}
	s := "commit " + strings.TrimSpace(string(head))
	dirty, _ := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	var files []string
	for _, l := range strings.Split(strings.TrimRight(string(dirty), "\n"), "\n") { // "XY path"
		if len(l) > 3 {
			files = append(files, l[3:])
		}
	}
	if len(files) > 0 {
		s += " + uncommitted changes to " + strings.Join(files, ", ")
	}
	return s
}
