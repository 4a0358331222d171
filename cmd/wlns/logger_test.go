package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// Lines at info and above carry no local part, in the message, in
// attributes (strings, errors, groups, attached ones) and in both formats;
// debug lines keep the full address for troubleshooting.
func TestNewLog_RedactsAddressesAtInfo(t *testing.T) {
	for format, number := range map[string]string{"text": "n=3", "json": `"n":3`} {
		var b bytes.Buffer
		log := newLog(&b, slog.LevelDebug, format).With("who", "ops@example.net")
		log.Info("challenge request for dave@umkc.edu", "reason", "rate limit per sender dave@umkc.edu reached",
			"err", errors.New("550 <carol@example.org>: unknown"), slog.Group("g", "to", "erin@example.com"), "n", 3)
		log.Warn("w", "addr", "frank@example.com")
		info := b.String()
		b.Reset()
		log.Debug("d", "addr", "dave@umkc.edu")
		for _, leak := range []string{"dave@", "carol@", "erin@", "ops@", "frank@"} {
			if strings.Contains(info, leak) {
				t.Errorf("%s: info line shows %s:\n%s", format, leak, info)
			}
		}
		for _, kept := range []string{"***@umkc.edu", "***@example.org", "***@example.com", "***@example.net", number} {
			if !strings.Contains(info, kept) {
				t.Errorf("%s: info line lacks %s:\n%s", format, kept, info)
			}
		}
		if !strings.Contains(b.String(), "dave@umkc.edu") {
			t.Errorf("%s: debug line lost the address: %s", format, b.String())
		}
	}
}
