package admin

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestMetrics_ExposeDocumentedNames(t *testing.T) {
	env := newTestEnv(t)
	env.must(http.StatusOK, "GET", "/healthz", "", "")
	env.must(http.StatusUnauthorized, "GET", "/v1/pairs", "", "")
	r := env.must(http.StatusOK, "GET", "/metrics", "", "")
	for _, want := range []string{
		`wlns_http_requests_total{code="200",route="GET /healthz"} 1`,
		`wlns_http_requests_total{code="401",route="GET /v1/pairs"} 1`,
		`wlns_http_request_duration_seconds_bucket{route="GET /healthz",le="0.001"}`,
		`wlns_http_request_duration_seconds_count{route="GET /v1/pairs"} 1`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestServer_UnknownRoutesAnswerJSON(t *testing.T) {
	env := newTestEnv(t)
	r := env.must(http.StatusNotFound, "GET", "/v1/nothing", adminSecret, "")
	if !strings.Contains(r.errorMsg(t), "/v1/nothing") {
		t.Errorf("404 error %q", r.errorMsg(t))
	}
	r = env.must(http.StatusMethodNotAllowed, "PATCH", "/v1/pairs", adminSecret, "")
	if !strings.Contains(r.header.Get("Allow"), "POST") || !strings.Contains(r.errorMsg(t), "PATCH") {
		t.Errorf("405: Allow %q, error %q", r.header.Get("Allow"), r.errorMsg(t))
	}
}

func TestServer_ReadinessAndStatus(t *testing.T) {
	env := newTestEnv(t)
	env.must(http.StatusOK, "GET", "/readyz", "", "")
	env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"a@b.example","ip":"192.0.2.1"}`)
	var st Status
	env.api.cfg.Leader = func() (string, string) { return "node1", "127.0.0.1:8300" }
	env.must(http.StatusOK, "GET", "/v1/status", readSecret, "").json(t, &st)
	if st.NodeID != "node1" || st.LeaderID != "node1" || st.LeaderAddr != "127.0.0.1:8300" || !st.Leader || !st.Ready || st.Serial == 0 || st.Counts.Pairs != 1 || st.Counts.Entities != 1 {
		t.Fatalf("status %+v", st)
	}
	env.ready = errors.New("dns not listening")
	r := env.must(http.StatusServiceUnavailable, "GET", "/readyz", "", "")
	if !strings.Contains(r.errorMsg(t), "dns not listening") {
		t.Errorf("readyz error %q", r.errorMsg(t))
	}
	env.must(http.StatusOK, "GET", "/v1/status", readSecret, "").json(t, &st)
	if st.Ready || st.NotReady == "" {
		t.Errorf("status while not ready: %+v", st)
	}
}

func TestServer_StoreUnavailableIs503(t *testing.T) {
	env := newTestEnv(t)
	env.store.err = errors.New("not the raft leader")
	r := env.must(http.StatusServiceUnavailable, "POST", "/v1/pairs", adminSecret, `{"sender":"a@b.example","ip":"192.0.2.1"}`)
	if !strings.Contains(r.errorMsg(t), "not the raft leader") {
		t.Errorf("error %q", r.errorMsg(t))
	}
}

func TestServer_IdempotencyKeyAppliesOnce(t *testing.T) {
	env := newTestEnv(t)
	body := `{"sender":"a@b.example","ip":"192.0.2.1"}`
	first := env.do("POST", "/v1/pairs", adminSecret, body, "Idempotency-Key", "k1")
	env.do("DELETE", "/v1/pairs?sender=a@b.example&ip=192.0.2.1", adminSecret, "")
	second := env.do("POST", "/v1/pairs", adminSecret, body, "Idempotency-Key", "k1")
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	// The retry is recognised as a duplicate: the deleted pair stays deleted.
	if n := env.api.store.Index().Load().Counts().Pairs; n != 0 {
		t.Errorf("retried request applied again: %d pairs (second answer %d %s)", n, second.status, second.body)
	}
}

func TestMetrics_DocumentedInAPIDoc(t *testing.T) {
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{metricRequests, metricDuration} {
		if !strings.Contains(string(b), "`"+name+"`") {
			t.Errorf("docs/api.md does not list %s", name)
		}
	}
}
