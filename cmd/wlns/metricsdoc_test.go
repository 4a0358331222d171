package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	// metricDecl finds the metric names the code registers.
	metricDecl = regexp.MustCompile(`(?:Name:\s*|NewDesc\(\s*|Metric\w*\s*=\s*)"(wlns_[a-z0-9_]+)"`)
	// metricLiteral finds every wlns_ string literal in the code.
	metricLiteral = regexp.MustCompile(`"(wlns_[a-z0-9_]+)"`)
	// metricMention finds metric names in the docs.
	metricMention = regexp.MustCompile(`\bwlns_[a-z0-9_]+[a-z0-9]\b`)
)

// TestDocs_MetricNamesMatchTheCode keeps docs and metrics in step: every
// metric the code registers is documented somewhere in README.md or docs/,
// and every wlns_ metric the docs name (alert rules included) exists.
func TestDocs_MetricNamesMatchTheCode(t *testing.T) {
	root := filepath.Join("..", "..")
	declared, literals := map[string]bool{}, map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range metricDecl.FindAllStringSubmatch(string(src), -1) {
			declared[m[1]] = true
		}
		for _, m := range metricLiteral.FindAllStringSubmatch(string(src), -1) {
			literals[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(declared) < 20 {
		t.Fatalf("found only %d metric declarations: %v", len(declared), declared)
	}
	docs := []string{filepath.Join(root, "README.md")}
	mds, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append(docs, mds...)
	// Names in the docs that are not metrics: Exim ACL names in mta.md.
	notMetrics := map[string]bool{"wlns_check_mail": true, "wlns_policy_mail": true}
	mentioned := map[string][]string{}
	for _, p := range docs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricMention.FindAllString(string(b), -1) {
			if notMetrics[m] {
				continue
			}
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(m, suf); ok && declared[base] {
					m = base
				}
			}
			mentioned[m] = append(mentioned[m], filepath.Base(p))
		}
	}
	var undocumented, unknown []string
	for name := range declared {
		if len(mentioned[name]) == 0 {
			undocumented = append(undocumented, name)
		}
	}
	for name, where := range mentioned {
		if !declared[name] && !literals[name] {
			unknown = append(unknown, name+" (in "+strings.Join(where, ", ")+")")
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unknown)
	for _, n := range undocumented {
		t.Errorf("metric %s is registered but no doc mentions it", n)
	}
	for _, n := range unknown {
		t.Errorf("the docs name %s, which the code does not register", n)
	}
}
