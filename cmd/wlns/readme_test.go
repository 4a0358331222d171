package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// readmeBlocks returns the fenced code blocks of README.md.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("reading README: %v", err)
	}
	var blocks []string
	parts := strings.Split(string(b), "```")
	for i := 1; i < len(parts); i += 2 {
		_, body, _ := strings.Cut(parts[i], "\n") // drop the info string
		blocks = append(blocks, body)
	}
	return blocks
}

// TestReadme_CommandsParse checks every `wlns …` line of the README names a
// command with valid flags and the right number of arguments.
func TestReadme_CommandsParse(t *testing.T) {
	n := 0
	for _, block := range readmeBlocks(t) {
		for _, line := range strings.Split(block, "\n") {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "$ "), "go run ./cmd/")
			if !strings.HasPrefix(line, "wlns ") {
				continue
			}
			line, _, _ = strings.Cut(line, "#")
			args := strings.Fields(line)[1:]
			n++
			c, rest, err := findCommand(args)
			if err != nil || c == nil {
				t.Errorf("README: %q: %v", line, err)
				continue
			}
			var out bytes.Buffer
			if _, _, err := c.parse(&cli{stdout: &out, stderr: &out, getenv: envMap(nil)}, rest); err != nil {
				t.Errorf("README: %q: %v\n%s", line, err, out.String())
			}
		}
	}
	if n < 20 {
		t.Errorf("found only %d wlns command lines in the README", n)
	}
}

// TestReadme_NameExampleOutput runs the README's `wlns name` example.
func TestReadme_NameExampleOutput(t *testing.T) {
	for _, block := range readmeBlocks(t) {
		cmdLine, want, ok := strings.Cut(block, "\n")
		if !strings.HasPrefix(cmdLine, "$ wlns name ") || !ok {
			continue
		}
		code, out, errOut := runCLI(t, nil, strings.Fields(cmdLine)[2:]...)
		if code != exitOK || out != want {
			t.Errorf("%s: exit %d\n%s%s\nREADME says\n%s", cmdLine, code, out, errOut, want)
		}
		return
	}
	t.Error("README has no `$ wlns name` example")
}
