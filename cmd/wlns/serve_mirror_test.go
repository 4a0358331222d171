package main

import (
	"strings"
	"testing"
	"time"
)

func TestServeConfig_MirrorFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // "" means valid
	}{
		{"defaults", nil, ""},
		{"lan profile", []string{"--raft-profile", "lan"}, ""},
		{"unknown profile", []string{"--raft-profile", "moon"}, `raft profile "moon": want wan or lan`},
		{"stale limit", []string{"--max-stale", "10m"}, ""},
		{"negative stale limit", []string{"--max-stale", "-1s"}, "--max-stale must not be negative"},
		{"negative promotion wait", []string{"--promote-after", "-1s"}, "--promote-after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serveConfigFor(t, tc.args, tc.want)
		})
	}
}

func TestServe_RefusesBadProfileFromTheEnvironment(t *testing.T) {
	code, _, stderr := runCLI(t, map[string]string{"WLNS_RAFT_PROFILE": "moon"}, "serve", "--data", t.TempDir())
	if code != exitUsage || !strings.Contains(stderr, `--raft-profile: raft profile "moon"`) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestServeConfig_MirrorDefaults(t *testing.T) {
	cfg, err := validatedServeConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.raftProfile != "wan" || cfg.maxStale != 0 || cfg.promoteAfter != 10*time.Second {
		t.Fatalf("profile %q, max-stale %v, promote-after %v; want wan, 0 (off), 10s", cfg.raftProfile, cfg.maxStale, cfg.promoteAfter)
	}
	if promoteAfter(0) <= 0 {
		t.Fatal("--promote-after 0 maps to the store's default instead of promoting at once")
	}
}
