package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// docCommands returns the `wlns …` command lines of the fenced code blocks
// of a doc, with backslash continuations joined.
func docCommands(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	parts := strings.Split(string(b), "```")
	for i := 1; i < len(parts); i += 2 {
		joined := strings.ReplaceAll(parts[i], "\\\n", " ")
		for _, line := range strings.Split(joined, "\n") {
			if strings.HasPrefix(line, "wlns ") {
				cmds = append(cmds, line)
			}
		}
	}
	return cmds
}

// TestVerificationDoc_CommandsRun checks every `wlns …` line of the
// verification and MTA docs: the command exists and its flags and
// arguments parse; a `wlns serve` line must also pass serve's validation
// (the flag combinations the docs recommend must start a node).
func TestVerificationDoc_CommandsRun(t *testing.T) {
	for _, doc := range []struct {
		path string
		min  int
	}{{"../../docs/verification.md", 3}, {"../../docs/mta.md", 2}} {
		cmds := docCommands(t, doc.path)
		if len(cmds) < doc.min {
			t.Errorf("found only %d wlns command lines in %s", len(cmds), doc.path)
		}
		for _, line := range cmds {
			c, rest, err := findCommand(strings.Fields(line)[1:])
			if err != nil || c == nil {
				t.Errorf("%s: %q: %v", doc.path, line, err)
				continue
			}
			var out bytes.Buffer
			if _, _, err := c.parse(&cli{stdout: &out, stderr: &out, getenv: envMap(nil)}, rest); err != nil {
				t.Errorf("%s: %q: %v\n%s", doc.path, line, err, out.String())
			}
			if c.name == "serve" {
				if _, err := validatedServeConfig(t, rest...); err != nil {
					t.Errorf("%s: %q does not validate: %v", doc.path, line, err)
				}
			}
		}
	}
}
