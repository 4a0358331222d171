package verify

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNew_ValidatesConfig(t *testing.T) {
	base := func() Config {
		return Config{BaseURL: "https://wl.example.org", MailDomain: "wl.example.org", Relay: Relay{Addr: "127.0.0.1:25"}}
	}
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"valid", func(*Config) {}, ""},
		{"valid with path", func(c *Config) { c.BaseURL = "http://wl.example.org/wl/" }, ""},
		{"not configured", func(c *Config) { *c = Config{} }, "not configured"},
		{"no base URL", func(c *Config) { c.BaseURL = "" }, "base URL"},
		{"relative base URL", func(c *Config) { c.BaseURL = "/verify" }, "base URL"},
		{"ftp base URL", func(c *Config) { c.BaseURL = "ftp://wl.example.org" }, "base URL"},
		{"no mail domain", func(c *Config) { c.MailDomain = "" }, "mail domain"},
		{"bad mail domain", func(c *Config) { c.MailDomain = "wl example" }, "mail domain"},
		{"no relay", func(c *Config) { c.Relay.Addr = "" }, "relay address"},
		{"relay without port", func(c *Config) { c.Relay.Addr = "smtp.example.net" }, "relay address"},
		{"bad TLS mode", func(c *Config) { c.Relay.TLS = "ssl" }, "TLS mode"},
		{"auth in clear text", func(c *Config) {
			c.Relay = Relay{Addr: "smtp.example.net:25", TLS: TLSNone, Username: "u", Password: "p"}
		}, "AUTH needs TLS"},
		{"auth in clear text on loopback", func(c *Config) { c.Relay.Username, c.Relay.Password = "u", "p" }, ""},
		{"from with a line break", func(c *Config) { c.From = "x <a@b.example>\r\nBcc: c@d.example" }, "line break"},
		{"TTL too long", func(c *Config) { c.TTL = 31 * 24 * time.Hour }, "TTL"},
		{"missing CA file", func(c *Config) { c.Relay.CAFile = "/nonexistent/ca.pem" }, "CA file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base()
			c.change(&cfg)
			_, err := New(cfg, &fsmStore{})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("New: %v, want an error about %q", err, c.want)
			}
		})
	}
	if _, err := New(Config{}, &fsmStore{}); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("empty config: %v, want ErrNotConfigured", err)
	}
}

func TestConfig_Defaults(t *testing.T) {
	cfg := Config{BaseURL: "https://wl.example.org/", MailDomain: "WL.example.org", Relay: Relay{Addr: "smtp.example.net:587"}}
	cfg.setDefaults()
	if cfg.BaseURL != "https://wl.example.org" || cfg.From != "wlns verification <noreply@wl.example.org>" ||
		cfg.TTL != DefaultTTL || cfg.SuppressFor != DefaultSuppressFor || cfg.Relay.TLS != TLSStartTLS ||
		cfg.Limits != (Limits{PerSender: 3, PerDomainRelay: 50, PerDomain: 5000, PerEntity: 500}) {
		t.Fatalf("defaults: %+v", cfg)
	}
	lo := Config{Relay: Relay{Addr: "127.0.0.1:25"}, Limits: Limits{PerSender: -1}}
	lo.setDefaults()
	if lo.Relay.TLS != TLSNone || lo.Limits.PerSender != 0 {
		t.Fatalf("loopback relay defaults to %q, limit -1 to %d", lo.Relay.TLS, lo.Limits.PerSender)
	}
}
