package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/wlns/wlns/raftstore"
)

// recoverCommand is `wlns cluster recover`, the offline way out of a lost
// quorum (docs/cluster.md, "Losing the quorum for good").
func recoverCommand() *subcommand {
	return &subcommand{
		name: "cluster recover", nargs: [2]int{0, 0},
		summary: "OFFLINE, only after losing a majority of voters for good (never if they may return): make the survivors the only voters; " +
			"run on every stopped survivor with the same --member list, then start them (docs/cluster.md)",
		setup: func(fs *flag.FlagSet) runFunc {
			data := fs.String("data", "", "data folder of this stopped node, as given to wlns serve --data (required)")
			var members listFlag
			fs.Var(&members, "member", "a surviving node as `ID=HOST:PORT`, its inter-node (--raft) address as wlns cluster status listed it; "+
				"this node included (repeat, or separate with commas). Every entry this node holds counts as committed; "+
				"writes committed only on the lost nodes are lost")
			var nonVoters listFlag
			fs.Var(&nonVoters, "nonvoter", "a surviving non-voting mirror as `ID=HOST:PORT`, to keep as a non-voter; it is recovered like the voters "+
				"(repeat, or separate with commas)")
			dryRun := fs.Bool("dry-run", false, "print this node's configuration and what would change; change nothing")
			return func(ctx context.Context, e *invocation) error {
				survivors, err := parseSurvivors(members, false)
				if err != nil {
					return err
				}
				mirrors, err := parseSurvivors(nonVoters, true)
				if err != nil {
					return err
				}
				survivors = append(survivors, mirrors...)
				if *data == "" {
					return usageErrorf("--data is required")
				}
				return runRecover(ctx, e.stdout, e.stderr, *data, survivors, *dryRun)
			}
		},
	}
}

// parseSurvivors reads ID=HOST:PORT values (of --nonvoter when nonVoter);
// checking the addresses is raftstore's job.
func parseSurvivors(members []string, nonVoter bool) ([]raftstore.Survivor, error) {
	flagName := "--member"
	if nonVoter {
		flagName = "--nonvoter"
	}
	out := make([]raftstore.Survivor, 0, len(members))
	for _, m := range members {
		id, addr, ok := strings.Cut(m, "=")
		if !ok || id == "" || addr == "" {
			return nil, usageErrorf("%s %q: want ID=HOST:PORT", flagName, m)
		}
		out = append(out, raftstore.Survivor{ID: id, Address: addr, NonVoter: nonVoter})
	}
	return out, nil
}

// runRecover recovers (or plans, or with no survivors only shows) the
// configuration of the node in dir.
func runRecover(ctx context.Context, w, errw io.Writer, dir string, survivors []raftstore.Survivor, dryRun bool) error {
	log := slog.New(slog.NewTextHandler(errw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch {
	case len(survivors) == 0 && !dryRun:
		return usageErrorf("name every survivor with --member ID=HOST:PORT (or see this node's configuration with --dry-run)")
	case len(survivors) == 0:
		rep, err := raftstore.ReadConfiguration(ctx, dir, log)
		if err != nil {
			return err
		}
		printRecoverReport(w, dir, &rep, "knows")
		return nil
	case dryRun:
		rep, err := raftstore.PlanRecovery(ctx, dir, survivors, log)
		if err != nil {
			return err
		}
		printRecoverReport(w, dir, &rep, "would recover")
		fmt.Fprintln(w, "\nDry run: nothing was changed.")
		return nil
	}
	rep, err := raftstore.Recover(ctx, dir, survivors, log)
	if err != nil {
		return err
	}
	printRecoverReport(w, dir, &rep, "recovered")
	fmt.Fprintf(w, "\nWARNING: every entry this node held, up to index %d, now counts as committed; writes committed only on the lost nodes are gone.\n", rep.LastIndex)
	fmt.Fprintln(w, "Next: run the same command, with the same --member list, on every other survivor while all are stopped;")
	fmt.Fprintln(w, "then start them all. Once they elect a leader, each survivor's spool commits what it held.")
	fmt.Fprintln(w, "Grow back to --voters voters (seven by default) by starting fresh nodes with --join; never restart a lost node on its old data.")
	return nil
}

// printRecoverReport prints the node, its old configuration and, when
// there is one, the new.
func printRecoverReport(w io.Writer, dir string, rep *raftstore.RecoverReport, verb string) {
	fmt.Fprintf(w, "node %s (data %s) %s:\n", rep.NodeID, dir, verb)
	fmt.Fprintf(w, "  configuration before: %s\n", recoverMembers(rep.Old))
	if len(rep.New) > 0 {
		fmt.Fprintf(w, "  configuration after:  %s\n", recoverMembers(rep.New))
	}
	fmt.Fprintf(w, "  last index: %d (the node's snapshot was at %d)\n", rep.LastIndex, rep.SnapshotIndex)
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
}

// recoverMembers renders members as ID=ADDRESS, non-voters marked.
func recoverMembers(ms []raftstore.Member) string {
	if len(ms) == 0 {
		return "(none)"
	}
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.ID + "=" + m.Address
		if !m.Voter {
			parts[i] += " (non-voter)"
		}
	}
	return strings.Join(parts, ", ")
}
