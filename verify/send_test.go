package verify

import (
	"strings"
	"testing"
)

func TestSend_TLSModesAndAuth(t *testing.T) {
	cases := []struct {
		name string
		mode sinkTLS
		tls  string
		auth bool
	}{
		{"plain", plainSink, TLSNone, false},
		{"plain with auth on loopback", plainSink, TLSNone, true},
		{"starttls with auth", startTLSSink, TLSStartTLS, true},
		{"implicit tls", implicitTLSSink, TLSImplicit, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, ca := startSink(t, c.mode)
			e := newEnv(t, func(cfg *Config) {
				cfg.Relay.Addr, cfg.Relay.TLS, cfg.Relay.CAFile = k.addr, c.tls, ca
				if c.auth {
					cfg.Relay.Username, cfg.Relay.Password = "wlns", "s3cret"
				}
			})
			e.sink = k
			e.mustSend("alice@example.com", groupIP)
			m := k.messages()
			if len(m) != 1 || m[0].tls != (c.mode != plainSink) || (m[0].user == "wlns") != c.auth {
				t.Fatalf("sink got %+v", m)
			}
		})
	}
}

func TestSend_RefusesUntrustedCertificate(t *testing.T) {
	k, _ := startSink(t, startTLSSink)
	e := newEnv(t, func(cfg *Config) { cfg.Relay.Addr, cfg.Relay.TLS = k.addr, TLSStartTLS })
	o := e.request("alice@example.com", groupIP)
	if o.Result != SendFailed || !strings.Contains(o.Reason, "certificate") {
		t.Fatalf("self-signed relay without CA file: %+v", o)
	}
	if n := len(k.messages()); n != 0 {
		t.Fatalf("%d mails over an unverified connection", n)
	}
}

func TestSend_WrongPasswordFails(t *testing.T) {
	k, ca := startSink(t, startTLSSink)
	e := newEnv(t, func(cfg *Config) {
		cfg.Relay = Relay{Addr: k.addr, TLS: TLSStartTLS, CAFile: ca, Username: "wlns", Password: "wrong"}
	})
	if o := e.request("alice@example.com", groupIP); o.Result != SendFailed || !strings.Contains(o.Reason, "authenticating") {
		t.Fatalf("wrong password: %+v", o)
	}
}
