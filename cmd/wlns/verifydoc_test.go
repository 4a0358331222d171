package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestVerificationDoc_CommandsRun checks every `wlns …` line of
// docs/verification.md: the command exists and its flags and arguments
// parse; a `wlns serve` line must also pass serve's validation (the flag
// combinations the doc recommends must start a node).
func TestVerificationDoc_CommandsRun(t *testing.T) {
	b, err := os.ReadFile("../../docs/verification.md")
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
			args := strings.Fields(line)[1:]
			c, rest, err := findCommand(args)
			if err != nil || c == nil {
				t.Errorf("docs/verification.md: %q: %v", line, err)
				continue
			}
			var out bytes.Buffer
			if _, _, err := c.parse(&cli{stdout: &out, stderr: &out, getenv: envMap(nil)}, rest); err != nil {
				t.Errorf("docs/verification.md: %q: %v\n%s", line, err, out.String())
			}
			if c.name == "serve" {
				if _, err := validatedServeConfig(t, rest...); err != nil {
					t.Errorf("docs/verification.md: %q does not validate: %v", line, err)
				}
			}
		}
	}
	if n < 3 {
		t.Errorf("found only %d wlns command lines in docs/verification.md", n)
	}
}
