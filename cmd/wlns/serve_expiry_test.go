package main

import (
	"flag"
	"testing"
	"time"

	"github.com/wlns/wlns/expiry"
)

func TestServeConfig_ExpiryFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want expiry.Windows
		err  string // "" means valid
	}{
		{"defaults", nil, expiry.DefaultWindows(), ""},
		{"days and never", []string{"--expire-pairs", "90d", "--expire-verp", "never", "--expire-groups", "365d"},
			expiry.Windows{Pairs: 90 * 24 * time.Hour, DomainPairs: expiry.DefaultWindow, Relays: expiry.DefaultWindow, Groups: 365 * 24 * time.Hour}, ""},
		{"seconds for tests", []string{"--expire-pairs", "6s", "--touch-interval", "1s", "--touch-granularity", "1s", "--sweep-interval", "1s"},
			expiry.Windows{Pairs: 6 * time.Second, DomainPairs: expiry.DefaultWindow, Verps: expiry.DefaultWindow, Relays: expiry.DefaultWindow}, ""},
		{"sub-second touch interval", []string{"--touch-interval", "100ms"}, expiry.Windows{}, "--touch-interval must be at least 1s"},
		{"zero sweep interval", []string{"--sweep-interval", "0"}, expiry.Windows{}, "--sweep-interval must be at least 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if cfg, ok := serveConfigFor(t, tc.args, tc.err); ok && cfg.expiry.windows() != tc.want {
				t.Fatalf("windows %+v, want %+v", cfg.expiry.windows(), tc.want)
			}
		})
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var cfg serveConfig
	cfg.declare(fs)
	if err := fs.Parse([]string{"--expire-pairs", "180 days"}); err == nil {
		t.Error("--expire-pairs '180 days' accepted")
	}
}
