package main

import (
	"context"
	"flag"
	"fmt"
	"runtime/debug"
)

// versionCommand prints the module version and VCS revision the binary was
// built from, for bug reports and upgrade checks.
func versionCommand() *subcommand {
	return &subcommand{
		name: "version", nargs: [2]int{0, 0},
		summary: "print the version, commit and Go version of this binary",
		setup: func(*flag.FlagSet) runFunc {
			return func(_ context.Context, e *invocation) error {
				fmt.Fprintln(e.stdout, versionString())
				return nil
			}
		},
	}
}

// versionString describes the build: module version, VCS revision (marked
// "+dirty" when built from a modified tree) and Go version.
func versionString() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "wlns (no build information)"
	}
	ver, rev, dirty := bi.Main.Version, "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	out := "wlns " + ver
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " commit " + rev
		if dirty {
			out += "+dirty"
		}
	}
	return out + " " + bi.GoVersion
}
