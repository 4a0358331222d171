package fsm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// What applying the log may not reach: a replica that read the network, a
// random source or another process while applying could diverge from the
// others. Raft, Prometheus, bbolt and the DNS library bring the network.
var bannedDeps = []string{"net", "os/exec", "math/rand", "math/rand/v2", "crypto/rand",
	"github.com/hashicorp/raft", "github.com/prometheus/client_golang/prometheus", "go.etcd.io/bbolt", "github.com/miekg/dns"}

// TestFSM_DependsOnNoNetworkRandomnessOrRaft checks every package the
// state machine is built from (go list -deps), so no import, however
// indirect, brings them in.
func TestFSM_DependsOnNoNetworkRandomnessOrRaft(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	if !deps["github.com/wlns/wlns/index"] {
		t.Fatalf("go list -deps does not list the index: %q", out)
	}
	for _, p := range bannedDeps {
		if deps[p] {
			t.Errorf("the state machine depends on %s (go list -deps ./fsm)", p)
		}
	}
}

// Packages the state machine's own files may not import: the clock, the
// file system and processes besides those of bannedDeps. (Its dependencies
// may import time and os: fmt does.)
var bannedImports = []string{"time", "os", "syscall", "unsafe"}

// Calls that read a clock or wait on one.
var clockCalls = map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true, "Tick": true,
	"After": true, "AfterFunc": true, "NewTimer": true, "NewTicker": true}

// TestFSM_ReadsNoClock walks every file of the package: it imports none of
// bannedImports nor bannedDeps, and calls no clock function (time.Now and
// the like, however the import is named).
func TestFSM_ReadsNoClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	banned := map[string]bool{}
	for _, p := range append(bannedImports, bannedDeps...) {
		banned[p] = true
	}
	fset := token.NewFileSet()
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, pos := range clockReads(f, banned, func(path string) { t.Errorf("%s imports %s", name, path) }) {
			t.Errorf("%s: reads the clock", fset.Position(pos))
		}
	}
	if n < 20 {
		t.Fatalf("only %d files read: run in the package's folder", n)
	}
}

// clockReads reports f's banned imports to bad and returns where it calls
// a function of clockCalls on the time package.
func clockReads(f *ast.File, banned map[string]bool, bad func(path string)) []token.Pos {
	timeName := ""
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if banned[path] {
			bad(path)
		}
		if path == "time" {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	var at []token.Pos
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == timeName && clockCalls[sel.Sel.Name] {
				at = append(at, sel.Pos())
			}
		}
		return true
	})
	return at
}

// TestFSM_ReadsNoClock_CatchesTimeNow: the walk finds a clock read however
// the import is named.
func TestFSM_ReadsNoClock_CatchesTimeNow(t *testing.T) {
	src := "package fsm\nimport clock \"time\"\nfunc f() int64 { return clock.Now().Unix() }\n"
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var imports []string
	at := clockReads(f, map[string]bool{"time": true}, func(p string) { imports = append(imports, p) })
	if len(at) != 1 || len(imports) != 1 {
		t.Fatalf("found %d clock reads and imports %v, want 1 and [time]", len(at), imports)
	}
}
