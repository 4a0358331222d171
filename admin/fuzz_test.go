package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzRoutes are the API's routes with a body or a query string, as method
// and path; {id} is filled in from the fuzzer's input.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/pairs"}, {"GET", "/v1/pairs"}, {"DELETE", "/v1/pairs"},
	{"POST", "/v1/verp"}, {"GET", "/v1/verp"}, {"DELETE", "/v1/verp"},
	{"POST", "/v1/relays"}, {"GET", "/v1/relays"}, {"GET", "/v1/relays/{id}"},
	{"PUT", "/v1/relays/{id}"}, {"DELETE", "/v1/relays/{id}"},
	{"POST", "/v1/groups"}, {"GET", "/v1/groups"}, {"GET", "/v1/groups/{id}"},
	{"PUT", "/v1/groups/{id}"}, {"DELETE", "/v1/groups/{id}"},
	{"POST", "/v1/groups/{id}/members"}, {"DELETE", "/v1/groups/{id}/members"},
	{"GET", "/v1/expiring"}, {"GET", "/v1/spool"},
	{"POST", "/v1/import"},
	{"POST", "/v1/challenges"}, {"GET", "/v1/challenges"}, {"GET", "/v1/challenges/{id}"},
	{"POST", "/v1/tokens"}, {"GET", "/v1/tokens"}, {"DELETE", "/v1/tokens/{id}"},
	{"DELETE", "/v1/cluster/members/{id}"},
}

// FuzzAPI sends arbitrary bodies, query strings and path values to every
// API route, as an admin and as a scoped postmaster, over a store that
// already holds a relay, a group, pairs and a VERP source. Whatever arrives,
// the API answers a client error or success with a JSON body: never a panic,
// never a 5xx but the one that says verification is off (an internal error is a bug in how the input was checked).
func FuzzAPI(f *testing.F) {
	seeds := []struct {
		route uint8
		admin bool
		id    string
		query string
		body  string
	}{
		{0, true, "", "", `{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`},
		{0, false, "", "", `{"sender":"o'brien@irish.example","ip":"192.0.2.9","pinned":true}`},
		{1, true, "", "ip=192.0.2.4&limit=2&after=x", ""},
		{2, true, "", "sender=umkc.edu&ip=192.0.2.4", ""},
		{3, true, "", "", `{"domain":"lists.example","ip":"2001:db8::1"}`},
		{6, true, "", "", `{"ip":"198.51.100.7","contact":"pm@example.net","ptr":"mx.example.net"}`},
		{9, false, "1", "", `{"contact":"x@y.z","pinned":false}`},
		{11, true, "", "", `{"name":"g2","members":["203.0.113.0/28","2001:db8:1::/48"]}`},
		{16, true, "2", "", `{"members":["203.0.113.64/26"]}`},
		{18, true, "", "within=720h&kind=pair", ""},
		{20, true, "", "", "{\"kind\":\"pair\",\"sender\":\"a@b.example\",\"ip\":\"192.0.2.5\"}\n{\"kind\":\"verp\",\"domain\":\"l.example\",\"ip\":\"192.0.2.5\"}\n"},
		{21, true, "", "", `{"sender":"new@b.example","ip":"192.0.2.4","helo":"mx"}`},
		{24, true, "", "", `{"name":"t","role":"postmaster","prefixes":["192.0.2.0/24"]}`},
		{0, true, "", "", `{"sender":"\u00e9@\u00fc.example","ip":"::ffff:192.0.2.4"}`},
		{0, true, "", "", `{"sender":` + strings.Repeat("[", 100) + `}`},
	}
	for _, s := range seeds {
		f.Add(s.route, s.admin, s.id, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, admin bool, id, query string, body []byte) {
		env := newTestEnv(t)
		env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`)
		env.must(http.StatusCreated, "POST", "/v1/groups", adminSecret, `{"name":"g","members":["192.0.2.128/25"]}`)
		env.must(http.StatusCreated, "POST", "/v1/verp", adminSecret, `{"domain":"lists.example","ip":"192.0.2.4"}`)

		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(rt.method, "/", strings.NewReader(string(body)))
		req.URL.Path = strings.Replace(rt.path, "{id}", strings.ReplaceAll(id, "/", ""), 1)
		req.URL.RawQuery = query
		secret := postmasterSecret
		if admin {
			secret = adminSecret
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		if rt.path == "/v1/import" {
			req.Header.Set("Content-Type", "application/x-ndjson")
		}
		w := httptest.NewRecorder()
		env.api.ServeHTTP(w, req)

		// Challenges answer 503 on a node without verification configured,
		// as this one is: a state of the node, not of the input.
		unconfigured := rt.path == "/v1/challenges" && rt.method == "POST" && w.Code == http.StatusServiceUnavailable
		if w.Code >= 500 && !unconfigured {
			t.Fatalf("%s %s?%s body %q: status %d %s", rt.method, req.URL.Path, query, body, w.Code, w.Body)
		}
		// The mux redirects unclean paths ("//") before any handler runs.
		if w.Code != http.StatusNoContent && w.Code/100 != 3 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s?%s: status %d, body is not JSON: %q", rt.method, req.URL.Path, query, w.Code, w.Body)
		}
		// The store still answers after whatever the request did.
		env.must(http.StatusOK, "GET", "/v1/status", adminSecret, "")
	})
}
