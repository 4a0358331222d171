package admin

import (
	"net/http"
	"strings"
	"testing"
)

func TestTokens_CreateUseListDelete(t *testing.T) {
	env := newTestEnv(t)
	var created TokenInfo
	env.must(http.StatusCreated, "POST", "/v1/tokens", adminSecret,
		`{"name":"umkc-pm","role":"postmaster","prefixes":["192.0.2.0/24"]}`).json(t, &created)
	if created.Secret == "" || created.Name != "umkc-pm" || len(created.Prefixes) != 1 {
		t.Fatalf("created %+v", created)
	}
	env.must(http.StatusCreated, "POST", "/v1/pairs", created.Secret, `{"sender":"a@umkc.edu","ip":"192.0.2.7"}`)
	env.must(http.StatusForbidden, "POST", "/v1/pairs", created.Secret, `{"sender":"a@umkc.edu","ip":"192.0.3.7"}`)

	r := env.must(http.StatusOK, "GET", "/v1/tokens", adminSecret, "")
	if strings.Contains(r.body, created.Secret) || strings.Contains(r.body, HashSecret(created.Secret)) || strings.Contains(r.body, `"hash"`) {
		t.Fatalf("token list leaks secrets or hashes: %s", r.body)
	}
	var list TokenList
	r.json(t, &list)
	if len(list.Tokens) != 4 || list.Tokens[3].Name != "umkc-pm" {
		t.Fatalf("tokens %+v", list.Tokens)
	}
	env.must(http.StatusConflict, "POST", "/v1/tokens", adminSecret, `{"name":"umkc-pm","role":"read"}`)
	env.must(http.StatusNoContent, "DELETE", "/v1/tokens/umkc-pm", adminSecret, "")
	env.must(http.StatusUnauthorized, "GET", "/v1/pairs", created.Secret, "")
	env.must(http.StatusNotFound, "DELETE", "/v1/tokens/umkc-pm", adminSecret, "")
}

func TestTokens_BadRequests(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct{ body, msg string }{
		{`{"name":"x","role":"root"}`, `invalid role "root"`},
		{`{"name":"x","role":"postmaster"}`, "needs prefixes"},
		{`{"name":"x","role":"read","prefixes":["192.0.2.0/24"]}`, "postmaster tokens only"},
		{`{"name":"x y","role":"read"}`, "invalid token name"},
		{`{"name":"x","role":"postmaster","prefixes":["192.0.2.0/33"]}`, `"192.0.2.0/33"`},
	}
	for _, tt := range tests {
		r := env.must(http.StatusBadRequest, "POST", "/v1/tokens", adminSecret, tt.body)
		if !strings.Contains(r.errorMsg(t), tt.msg) {
			t.Errorf("%s: error %q, want %q", tt.body, r.errorMsg(t), tt.msg)
		}
	}
}
