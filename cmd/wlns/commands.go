package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// subcommand is one sub-command of the table.
type subcommand struct {
	// name is the words that select it, such as "pair add".
	name string
	// args describes the positional arguments, for the usage line.
	args string
	// summary is one line for `wlns help`.
	summary string
	// nargs is the minimum and maximum number of positional arguments;
	// max -1 means no limit.
	nargs [2]int
	// client adds --server/--token and builds an API client.
	client bool
	// setup declares the command's flags and returns what runs it.
	setup func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command with its positional arguments.
type runFunc func(ctx context.Context, e *invocation) error

// invocation is one run of a command.
type invocation struct {
	*cli
	args []string
	api  *apiClient
}

// commands is the sub-command table, in the order `wlns help` lists it.
func commands() []*subcommand {
	var cs []*subcommand
	cs = append(cs, serveCommand(), policyCommand())
	cs = append(cs, pairCommands()...)
	cs = append(cs, verpCommands()...)
	cs = append(cs, delegationCommands()...)
	cs = append(cs, suggestionCommands()...)
	cs = append(cs, expiryCommands()...)
	cs = append(cs, relayCommands()...)
	cs = append(cs, groupCommands()...)
	cs = append(cs, importFormatCommands()...)
	cs = append(cs, importCommand(), exportCommand())
	cs = append(cs, tokenCommands()...)
	cs = append(cs, zoneRecordCommands()...)
	cs = append(cs, statusCommand(), spoolCommand())
	cs = append(cs, backupCommands()...)
	cs = append(cs, clusterCommands()...)
	cs = append(cs, recoverCommand())
	cs = append(cs, caCommands()...)
	cs = append(cs, nameCommand(), checkCommand())
	cs = append(cs, versionCommand())
	return cs
}

// findCommand picks the command named by the first one or two words of
// args. It returns a nil command for "help" without a topic.
func findCommand(args []string) (*subcommand, []string, error) {
	if len(args) == 0 || args[0] == "help" && len(args) == 1 || args[0] == "-h" || args[0] == "--help" {
		return nil, nil, nil
	}
	if args[0] == "help" {
		c, _, err := findCommand(args[1:])
		if err != nil || c == nil {
			return c, nil, err
		}
		return c, []string{"-h"}, nil
	}
	cs := commands()
	for _, c := range cs {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slicesEqual(args[:len(words)], words) {
			return c, args[len(words):], nil
		}
	}
	var subs []string
	for _, c := range cs {
		if strings.HasPrefix(c.name, args[0]+" ") {
			subs = append(subs, strings.TrimPrefix(c.name, args[0]+" "))
		}
	}
	if len(subs) > 0 {
		return nil, nil, &needsSubError{word: args[0], subs: subs}
	}
	return nil, nil, fmt.Errorf("unknown command %q", strings.Join(args[:1], " "))
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// printUsage lists the commands, or only those starting with the words of
// prefix.
func printUsage(w io.Writer, prefix ...string) {
	fmt.Fprintln(w, "wlns: a DNS whitelist server and its admin client")
	fmt.Fprintln(w, "\nUsage: wlns COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w, "\nCommands:")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	p := strings.Join(prefix, " ")
	for _, c := range commands() {
		if p == "" || strings.HasPrefix(c.name, p+" ") {
			fmt.Fprintf(tw, "  %s %s\t%s\n", c.name, c.args, c.summary)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "\nRun `wlns help COMMAND` or `wlns COMMAND -h` for its flags.")
	fmt.Fprintln(w, "Every flag can also be set in the environment as WLNS_<FLAG>, e.g. WLNS_SERVER.")
}

// execute parses the command's flags (anywhere on the line), checks its
// arguments and runs it.
func (c *subcommand) execute(ctx context.Context, cl *cli, args []string) error {
	runner, inv, err := c.parse(cl, args)
	if err != nil || runner == nil {
		return err
	}
	return runner(ctx, inv)
}

// parse prepares a run of the command; a nil runFunc without error means
// the help was printed.
func (c *subcommand) parse(cl *cli, args []string) (runFunc, *invocation, error) {
	fs := flag.NewFlagSet("wlns "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var copts clientOptions
	if c.client {
		copts.declare(fs, cl.getenv)
	}
	runner := c.setup(fs)
	pos, err := parseArgs(fs, args, cl.getenv)
	if errors.Is(err, flag.ErrHelp) {
		c.printHelp(cl.stdout, fs)
		return nil, nil, nil
	}
	if err != nil {
		c.printHelp(cl.stderr, fs)
		return nil, nil, usageErrorf("%v", err)
	}
	if len(pos) < c.nargs[0] || c.nargs[1] >= 0 && len(pos) > c.nargs[1] {
		c.printHelp(cl.stderr, fs)
		return nil, nil, usageErrorf("wrong number of arguments")
	}
	inv := &invocation{cli: cl, args: pos}
	if c.client {
		if inv.api, err = copts.client(); err != nil {
			return nil, nil, err
		}
	}
	return runner, inv, nil
}

func (c *subcommand) printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: wlns %s %s\n\n%s\n", c.name, c.args, c.summary)
	var any bool
	fs.VisitAll(func(*flag.Flag) { any = true })
	if !any {
		return
	}
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// needsSubError is a command word given without its sub-command.
type needsSubError struct {
	word string
	subs []string
}

func (e *needsSubError) Error() string {
	return fmt.Sprintf("%s needs a sub-command: %s", e.word, strings.Join(e.subs, ", "))
}
