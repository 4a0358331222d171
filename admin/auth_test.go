package admin

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestAuth_RolesAndScopes(t *testing.T) {
	env := newTestEnv(t)
	pair := func(ip string) string { return `{"sender":"dave@umkc.edu","ip":"` + ip + `"}` }
	tests := []struct {
		name, method, path, secret, body string
		want                             int
		msg                              string
	}{
		{"no token", "GET", "/v1/pairs", "", "", http.StatusUnauthorized, "missing bearer token"},
		{"unknown token", "GET", "/v1/pairs", "wrong", "", http.StatusUnauthorized, "invalid token"},
		{"read token reads", "GET", "/v1/pairs", readSecret, "", http.StatusOK, ""},
		{"read token writes", "POST", "/v1/pairs", readSecret, pair("192.0.2.4"), http.StatusForbidden, "may only read"},
		{"read token lists tokens", "GET", "/v1/tokens", readSecret, "", http.StatusForbidden, "may not manage tokens"},
		{"postmaster lists tokens", "GET", "/v1/tokens", postmasterSecret, "", http.StatusForbidden, "may not manage tokens"},
		{"postmaster takes a backup", "GET", "/v1/backup", postmasterSecret, "", http.StatusForbidden, "may not take backups: only an admin token may"},
		{"postmaster restores", "POST", "/v1/restore", postmasterSecret, "", http.StatusForbidden, "may not restore backups"},
		{"read token removes a member", "DELETE", "/v1/cluster/members/n2", readSecret, "", http.StatusForbidden, "may not change cluster membership"},
		{"postmaster outside its prefixes", "POST", "/v1/pairs", postmasterSecret, pair("198.51.100.7"), http.StatusForbidden, "outside its prefixes"},
		{"postmaster inside its prefixes", "POST", "/v1/pairs", postmasterSecret, pair("192.0.2.4"), http.StatusCreated, ""},
		{"postmaster inside its IPv6 prefix", "POST", "/v1/pairs", postmasterSecret, pair("2001:db8::25"), http.StatusCreated, ""},
		{"postmaster group outside", "POST", "/v1/groups", postmasterSecret,
			`{"name":"big","members":["192.0.2.0/28","203.0.113.0/28"]}`, http.StatusForbidden, "203.0.113.0/28"},
		{"admin anywhere", "POST", "/v1/pairs", adminSecret, pair("198.51.100.7"), http.StatusCreated, ""},
		{"health without token", "GET", "/healthz", "", "", http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(tt.method, tt.path, tt.secret, tt.body)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.want, r.body)
			}
			if tt.msg != "" && !strings.Contains(r.errorMsg(t), tt.msg) {
				t.Errorf("error %q does not say %q", r.errorMsg(t), tt.msg)
			}
			if tt.want == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer, headers %v", r.header)
			}
		})
	}
}

func TestAuth_PostmasterCannotWriteIntoOthersGroup(t *testing.T) {
	env := newTestEnv(t)
	// An admin's group covers the postmaster's prefix and more.
	env.must(http.StatusCreated, "POST", "/v1/groups", adminSecret, `{"name":"wide","members":["192.0.0.0/16"]}`)
	r := env.must(http.StatusForbidden, "POST", "/v1/pairs", postmasterSecret, `{"sender":"a@b.example","ip":"192.0.2.9"}`)
	if !strings.Contains(r.errorMsg(t), "192.0.0.0/16") {
		t.Errorf("error %q does not name the group's prefix", r.errorMsg(t))
	}
}

func TestAuth_UnknownTokenOnANodeCatchingUpIs503(t *testing.T) {
	env := newTestEnv(t)
	env.ready = errors.New("store not caught up: replaying the log")
	r := env.do("GET", "/v1/pairs", "created-while-this-node-was-down", "")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "not caught up") {
		t.Errorf("unknown token while catching up: %d %s; want 503 naming the reason", r.status, r.body)
	}
	if r := env.do("GET", "/v1/pairs", readSecret, ""); r.status != http.StatusOK {
		t.Errorf("a token the node knows still works while it catches up: %d %s", r.status, r.body)
	}
	env.ready = nil
	if r := env.do("GET", "/v1/pairs", "created-while-this-node-was-down", ""); r.status != http.StatusUnauthorized {
		t.Errorf("unknown token on a caught-up node: %d; want 401", r.status)
	}
}

func TestAuth_ConsoleSignInLinkIsNoAPIToken(t *testing.T) {
	env := newTestEnv(t)
	// The console stores its mailed sign-in links as postmaster tokens:
	// until used they must start a session, never act on the API.
	env.seedToken(SignInLinkPrefix+"7-0123456789abcdef", "link-secret", "postmaster", "192.0.2.0/24")
	r := env.do("GET", "/v1/pairs", "link-secret", "")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.errorMsg(t), "sign-in link") {
		t.Fatalf("a sign-in link as bearer token: %d %s, want 401 naming it a sign-in link", r.status, r.body)
	}
	env.must(http.StatusOK, "GET", "/v1/pairs", postmasterSecret, "")
}
