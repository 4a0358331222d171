package systest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// wlnsBin is the path of the wlns binary TestMain built for this run.
var wlnsBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "wlns-systest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "systest: creating temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	wlnsBin, err = buildWlns(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "systest:", err)
		return 1
	}
	return m.Run()
}

// buildWlns compiles ./cmd/wlns into dir, with the race detector when the
// tests themselves run with it.
func buildWlns(dir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := filepath.Join(dir, "wlns")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/wlns/wlns/cmd/wlns")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = ".." // the module root, so the build sees go.mod
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("building wlns: %w\n%s", err, out)
	}
	return bin, nil
}

// inCI reports whether the tests run in CI, where missing tools are failures.
func inCI() bool { return os.Getenv("CI") == "true" }

// needTool finds an external program or stops the test: under CI=true with
// a failure, elsewhere with a skip that names the Debian package.
func needTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if _, serr := os.Stat(filepath.Join(dir, name)); serr == nil {
			return filepath.Join(dir, name)
		}
	}
	missing(t, fmt.Sprintf("%s not found (Debian package %s; scripts/test-deps.sh installs it)", name, pkg))
	return ""
}

// needRoot stops the test unless it runs as root (unshare, bind mounts,
// port 53).
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root (unshare -m, a bind-mounted resolv.conf and port 53)")
	}
}

func missing(t testing.TB, why string) {
	t.Helper()
	if inCI() {
		t.Fatal(why)
	}
	t.Skip(why)
}
