package verify

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// The postmaster forward goes through the relay from the null sender to
// the configured address with Delivered-To in front, once: a message
// that already carries that header is a loop.
func TestForwardPostmaster_ThroughTheRelayOnce(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Postmaster = "ops@example.net" })
	if is, fwd := e.svc.Postmaster("<PostMaster@WL.example.org>"); !is || !fwd {
		t.Fatalf("Postmaster(postmaster@mail domain) = %v, %v", is, fwd)
	}
	if is, _ := e.svc.Postmaster("postmaster@example.org"); is {
		t.Fatal("another domain's postmaster is ours")
	}
	msg := []byte("From: a@isp.example\r\nSubject: hello\r\n\r\nbody\r\n")
	if err := e.svc.ForwardPostmaster(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := e.sink.messages()
	if len(got) != 1 || got[0].from != "" || len(got[0].to) != 1 || got[0].to[0] != "ops@example.net" ||
		!strings.HasPrefix(got[0].data, "Delivered-To: postmaster@wl.example.org\r\nFrom: a@isp.example\r\n") {
		t.Fatalf("forwarded %+v", got)
	}
	if err := e.svc.ForwardPostmaster(context.Background(), []byte(got[0].data)); !errors.Is(err, errPostmasterLoop) {
		t.Fatalf("forwarding the forward: %v, want a loop", err)
	}
	if _, fwd := newEnv(t).svc.Postmaster("postmaster@wl.example.org"); fwd {
		t.Fatal("forwarded without a postmaster address")
	}
}

func TestConfig_PostmasterAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"ops@example.net":           "",
		"not an address":            "invalid postmaster address",
		"example.net":               "invalid postmaster address",
		"hostmaster@wl.example.org": "would loop",
	} {
		cfg := Config{BaseURL: "https://wl.example.org", MailDomain: "wl.example.org", Relay: Relay{Addr: "127.0.0.1:25"}, Postmaster: addr}
		cfg.setDefaults()
		if err := cfg.validate(); (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("Postmaster %q: %v, want %q", addr, err, want)
		}
	}
}
