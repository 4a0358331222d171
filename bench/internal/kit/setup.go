package kit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildWlns compiles github.com/wlns/wlns/cmd/wlns into dir/wlns (the
// caller must run inside the module) and returns the binary's path.
func BuildWlns(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "wlns")
	if err := RunCmd(ctx, "go", "build", "-o", bin, "github.com/wlns/wlns/cmd/wlns"); err != nil {
		return "", fmt.Errorf("building wlns (run inside the module): %w", err)
	}
	return bin, nil
}

// LookTools fails unless every tool is on PATH.
func LookTools(tools ...string) error {
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (scripts/test-deps.sh installs it): %w", tool, err)
		}
	}
	return nil
}

// WorkDir returns dir, created, or a new temporary folder when dir is
// empty, readable by rbldnsd's unprivileged user, and how to remove it
// (nothing for a dir given).
func WorkDir(dir string) (string, func(), error) {
	cleanup := func() {}
	if dir == "" {
		d, err := os.MkdirTemp("", "wlns-bench-")
		if err != nil {
			return "", nil, fmt.Errorf("creating work dir: %w", err)
		}
		dir, cleanup = d, func() { os.RemoveAll(d) }
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("creating work dir: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("opening work dir to rbldnsd: %w", err)
	}
	return dir, cleanup, nil
}

// SmokeWorkDir is the set-up of a driver's smoke test: it skips the test
// (fails it under CI=true) unless the tools are installed and it runs as
// root (rbldnsd must start as root to drop to its own user), and returns a
// work folder rbldnsd can read, removed after the test.
func SmokeWorkDir(t testing.TB, tools ...string) string {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	if err := LookTools(tools...); err != nil {
		skip(err.Error())
	}
	if os.Geteuid() != 0 {
		skip("the smoke run needs root (rbldnsd -u rbldns)")
	}
	work, cleanup, err := WorkDir("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return work
}
