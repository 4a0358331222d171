package raftstore

import (
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// applyFiles hold the code the FSM runs while applying log entries.
var applyFiles = []string{"apply.go", "entity.go", "pair.go", "token.go", "batch.go", "state.go", "dedup.go",
	"expiry.go", "challenge.go", "challenge_state.go", "challenge_map.go", "zonerecord.go", "delegation.go"}

// TestFSM_ApplyPathReadsNoClockOrRandom keeps clocks and random sources out
// of the apply path: a replica that used one would diverge from the others.
func TestFSM_ApplyPathReadsNoClockOrRandom(t *testing.T) {
	banned := map[string]bool{"time": true, "math/rand": true, "math/rand/v2": true, "crypto/rand": true, "os": true, "net": true}
	fset := token.NewFileSet()
	for _, name := range applyFiles {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if banned[path] {
				t.Errorf("%s imports %s: the apply path must depend only on the log", name, path)
			}
		}
	}
}
