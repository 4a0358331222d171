// Command wlns is the whitelist name server and its command-line client, in
// one binary: `wlns serve` runs a node (DNS, HTTP API, Raft), the other
// sub-commands talk to a node's HTTP API, and `wlns name`/`wlns check` build
// and ask the query names a mail server would ask.
//
// The package only wires subsystems together and parses command lines; it
// owns no data and implements no protocol itself.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// cli is what a sub-command may use of the process: its streams and its
// environment.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, c *cli) int {
	cmd, rest, err := findCommand(args)
	var ns *needsSubError
	switch {
	case errors.As(err, &ns) && len(args) > 1 && args[0] == "help":
		printUsage(c.stdout, ns.word)
		return exitOK
	case errors.As(err, &ns):
		fmt.Fprintf(c.stderr, "wlns: %v\n\n", err)
		printUsage(c.stderr, ns.word)
		return exitUsage
	case err != nil:
		fmt.Fprintf(c.stderr, "wlns: %v\n\n", err)
		printUsage(c.stderr)
		return exitUsage
	}
	if cmd == nil {
		printUsage(c.stdout)
		return exitOK
	}
	err = cmd.execute(ctx, c, rest)
	var ee *exitError
	var sp *spooledNotice
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &sp):
		fmt.Fprintln(c.stdout, sp.Error())
		return exitOK
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintf(c.stderr, "wlns %s: %v\n", cmd.name, ee.err)
		}
		return ee.code
	default:
		fmt.Fprintf(c.stderr, "wlns %s: %v\n", cmd.name, err)
		return exitFailure
	}
}

// exitError ends a command with a given status; err may be nil when the
// command printed everything already.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

// usageErrorf reports a wrong command line (exit status 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}
