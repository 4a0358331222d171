package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestClusterDoc_CommandsParse checks every `wlns …` line of
// docs/cluster.md names a command with valid flags and arguments.
func TestClusterDoc_CommandsParse(t *testing.T) {
	b, err := os.ReadFile("../../docs/cluster.md")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(b), "```")
	n := 0
	for i := 1; i < len(parts); i += 2 {
		for _, line := range strings.Split(parts[i], "\n") {
			if !strings.HasPrefix(line, "wlns ") {
				continue
			}
			n++
			c, rest, err := findCommand(strings.Fields(line)[1:])
			if err != nil || c == nil {
				t.Errorf("docs/cluster.md: %q: %v", line, err)
				continue
			}
			var out bytes.Buffer
			if _, _, err := c.parse(&cli{stdout: &out, stderr: &out, getenv: envMap(nil)}, rest); err != nil {
				t.Errorf("docs/cluster.md: %q: %v\n%s", line, err, out.String())
			}
		}
	}
	if n < 7 {
		t.Errorf("found only %d wlns command lines in docs/cluster.md", n)
	}
}
