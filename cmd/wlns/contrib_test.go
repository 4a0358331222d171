package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContrib_EnvFilesUseRealFlags keeps the example environment files of
// the systemd units honest: every WLNS_ variable must be a flag of the
// command the unit runs, and every value must parse.
func TestContrib_EnvFilesUseRealFlags(t *testing.T) {
	tests := []struct {
		file    string
		command string
	}{
		{"wlns.env", "serve"},
		{"policy.env", "policy"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			env := readEnvFile(t, filepath.Join("..", "..", "contrib", "systemd", tt.file))
			if len(env) == 0 {
				t.Fatal("no variables in the file")
			}
			cmd, _, err := findCommand([]string{tt.command})
			if err != nil || cmd == nil {
				t.Fatalf("no %q command: %v", tt.command, err)
			}
			fs := flag.NewFlagSet(tt.command, flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			cmd.setup(fs)
			known := map[string]bool{}
			fs.VisitAll(func(f *flag.Flag) { known[envName(f.Name)] = true })
			for name := range env {
				if !known[name] {
					t.Errorf("%s sets %s, which is not a flag of wlns %s", tt.file, name, tt.command)
				}
			}
			if _, err := parseArgs(fs, nil, func(k string) string { return env[k] }); err != nil {
				t.Errorf("%s: a value does not parse: %v", tt.file, err)
			}
		})
	}
}

// readEnvFile reads KEY=VALUE lines, skipping comments and blank lines.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: line %q is not KEY=VALUE", path, line)
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestContrib_SystemdUnitsVerify runs systemd-analyze verify on the units
// (with the binary and environment file swapped for ones that exist here):
// any complaint, such as an unknown or misspelt key, fails the test.
func TestContrib_SystemdUnitsVerify(t *testing.T) {
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze not installed (package systemd); scripts/test-deps.sh installs it")
		}
		t.Skip("systemd-analyze not installed (package systemd)")
	}
	for _, unit := range []string{"wlns.service", "wlns-policy.service"} {
		t.Run(unit, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("..", "..", "contrib", "systemd", unit))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(src), "/usr/local/bin/wlns", "/bin/true")
			text = strings.ReplaceAll(text, "EnvironmentFile=/etc/wlns/", "EnvironmentFile=-/etc/wlns/")
			path := filepath.Join(t.TempDir(), unit)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			cmd := exec.CommandContext(ctx, tool, "verify", path)
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "" {
				t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out.String())
			}
		})
	}
}

// TestContrib_SystemdWaitsOutTheShutdownTimeout: systemd kills a unit that
// has not stopped within TimeoutStopSec, so the unit must wait longer than
// wlns serve's own bound (the environment file's, else the flag default):
// a node killed during its shutdown snapshot restarts on the log past the
// previous snapshot and answers nothing until it has replayed it.
func TestContrib_SystemdWaitsOutTheShutdownTimeout(t *testing.T) {
	const margin = 30 * time.Second // DNS, HTTP and Raft stop before the snapshot
	src, err := os.ReadFile(filepath.Join("..", "..", "contrib", "systemd", "wlns.service"))
	if err != nil {
		t.Fatal(err)
	}
	var stop time.Duration
	for _, line := range strings.Split(string(src), "\n") {
		if v, ok := strings.CutPrefix(line, "TimeoutStopSec="); ok {
			if stop, err = time.ParseDuration(v + "s"); err != nil {
				t.Fatalf("TimeoutStopSec=%s: %v", v, err)
			}
		}
	}
	if stop == 0 {
		t.Fatal("wlns.service sets no TimeoutStopSec (systemd's default is 90 s; say it)")
	}
	env := readEnvFile(t, filepath.Join("..", "..", "contrib", "systemd", "wlns.env"))
	cmd, _, err := findCommand([]string{"serve"})
	if err != nil || cmd == nil {
		t.Fatalf("no serve command: %v", err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cmd.setup(fs)
	if _, err := parseArgs(fs, nil, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	shutdown, err := time.ParseDuration(fs.Lookup("shutdown-timeout").Value.String())
	if err != nil {
		t.Fatal(err)
	}
	if stop < shutdown+margin {
		t.Errorf("TimeoutStopSec %v, --shutdown-timeout %v: systemd must wait at least %v longer than wlns", stop, shutdown, margin)
	}
}
