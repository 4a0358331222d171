package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDocs_AlertRulesPassPromtool runs `promtool test rules` on the alert
// rules exactly as docs/operations.md prints them, against the scenarios in
// testdata/alerts_test.yml (a restart must not page; a cluster that stopped
// sweeping must).
func TestDocs_AlertRulesPassPromtool(t *testing.T) {
	tool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool not installed (package prometheus); scripts/test-deps.sh installs it")
		}
		t.Skip("promtool not installed (package prometheus)")
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	rules := alertRules(t, string(doc))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts_test.yml"), tests, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, "test", "rules", "alerts_test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s\nrules:\n%s", err, out, rules)
	}
}

// alertRules returns the YAML block of the Monitoring section.
func alertRules(t *testing.T, doc string) string {
	t.Helper()
	_, sec, ok := strings.Cut(doc, "## Monitoring")
	if !ok {
		t.Fatal("docs/operations.md has no Monitoring section")
	}
	_, block, ok := strings.Cut(sec, "```yaml\n")
	if !ok {
		t.Fatal("the Monitoring section has no yaml block")
	}
	block, _, ok = strings.Cut(block, "```")
	if !ok || !strings.Contains(block, "groups:") {
		t.Fatalf("the yaml block is not a rule file:\n%s", block)
	}
	return block
}
