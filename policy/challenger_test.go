package policy

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeAPI is a wlns API that records challenge requests and answers each
// with the next status in its script (the last one repeats).
type fakeAPI struct {
	mu     sync.Mutex
	script []int
	got    []map[string]string
	auth   []string
	srv    *httptest.Server
}

func startFakeAPI(t *testing.T, script ...int) *fakeAPI {
	t.Helper()
	return startFakeAPIOn(t, false, script...)
}

// startFakeAPIOn is startFakeAPI, over HTTPS with httptest's own CA when
// useTLS.
func startFakeAPIOn(t *testing.T, useTLS bool, script ...int) *fakeAPI {
	t.Helper()
	f := &fakeAPI{script: script}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/challenges" {
			http.Error(w, "wrong endpoint", http.StatusNotFound)
			return
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		code := f.script[min(len(f.got), len(f.script)-1)]
		f.got = append(f.got, body)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.WriteHeader(code)
		status := map[int]string{200: "open", 201: "sent"}[code]
		_ = json.NewEncoder(w).Encode(map[string]string{"status": status})
	}))
	if useTLS {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) requests() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.got...)
}

// waitRequests polls until the API has seen n requests (bounded).
func (f *fakeAPI) waitRequests(t *testing.T, n int) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got := f.requests(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("API saw %d challenge requests within 30s, want %d", len(f.requests()), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startChallenger runs an APIChallenger against api until the test ends.
func startChallenger(t *testing.T, api string, mod func(*ChallengerConfig)) (*APIChallenger, *syncBuffer) {
	t.Helper()
	cfg := ChallengerConfig{API: api, Token: "mta-secret"}
	if mod != nil {
		mod(&cfg)
	}
	logs := &syncBuffer{}
	c, err := NewAPIChallenger(cfg, slog.New(slog.NewTextHandler(logs, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("NewAPIChallenger: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return within 5s of cancel")
		}
	})
	return c, logs
}

func deferral(sender, client string) Deferral {
	return Deferral{Sender: sender, Client: netip.MustParseAddr(client), QueueID: "Q1", Instance: "i1"}
}

func outcomeCount(t *testing.T, c *APIChallenger, outcome string) float64 {
	t.Helper()
	return counter(t, c.out.WithLabelValues(outcome))
}

func TestAPIChallenger_AsksOncePerPairAndCountsOutcome(t *testing.T) {
	api := startFakeAPI(t, http.StatusCreated)
	c, logs := startChallenger(t, api.srv.URL+"/", nil)
	// Three recipients of one message, then the MTA's retry.
	for range 4 {
		c.Deferred(context.Background(), deferral("Dave@UMKC.edu", "192.0.2.4"))
	}
	c.Deferred(context.Background(), deferral("dave@umkc.edu", "192.0.2.5"))
	api.waitRequests(t, 2)
	time.Sleep(50 * time.Millisecond) // a third request would show now
	got := api.requests()
	if len(got) != 2 {
		t.Fatalf("API got %d requests, want 2 (one per sender and client): %v", len(got), got)
	}
	if got[0]["sender"] != "Dave@UMKC.edu" && got[1]["sender"] != "Dave@UMKC.edu" {
		t.Errorf("requests %v lack the sender", got)
	}
	for _, a := range api.auth {
		if a != "Bearer mta-secret" {
			t.Errorf("Authorization %q, want the bearer token", a)
		}
	}
	waitCount(t, c, ChallengeSent, 2)
	if n := outcomeCount(t, c, ChallengeDuplicate); n != 3 {
		t.Errorf("duplicate count %v, want 3", n)
	}
	if strings.Contains(strings.ToLower(logs.String()), "dave@") {
		t.Errorf("info log holds the full sender address:\n%s", logs)
	}
	if !strings.Contains(logs.String(), "sender_domain=umkc.edu") {
		t.Errorf("log lacks the sender domain:\n%s", logs)
	}
}

// waitCount polls until the outcome was counted n times (bounded
// generously: a loaded machine runs a TLS handshake under -race slowly).
func waitCount(t *testing.T, c *APIChallenger, outcome string, n float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for outcomeCount(t, c, outcome) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s count %v within 30s, want %v", outcome, outcomeCount(t, c, outcome), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAPIChallenger_FailureLetsTheRetryAskAgain(t *testing.T) {
	for _, tc := range []struct {
		name       string
		first      int
		outcome    string
		askedTwice bool
	}{
		{"unavailable", http.StatusServiceUnavailable, ChallengeUnavailable, true},
		{"server error", http.StatusInternalServerError, ChallengeError, true},
		{"mail not sent", http.StatusBadGateway, ChallengeSendFailed, true},
		{"bad token", http.StatusUnauthorized, ChallengeError, true},
		{"refused", http.StatusForbidden, ChallengeRefused, false},
		{"unprocessable", http.StatusUnprocessableEntity, ChallengeRefused, false},
		{"limited", http.StatusTooManyRequests, ChallengeLimited, false},
		{"already open", http.StatusOK, ChallengeOpen, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := startFakeAPI(t, tc.first, http.StatusCreated)
			c, _ := startChallenger(t, api.srv.URL, nil)
			c.Deferred(context.Background(), deferral("dave@umkc.edu", "192.0.2.4"))
			waitCount(t, c, tc.outcome, 1)
			c.Deferred(context.Background(), deferral("dave@umkc.edu", "192.0.2.4"))
			if tc.askedTwice {
				api.waitRequests(t, 2)
				return
			}
			time.Sleep(50 * time.Millisecond)
			if n := len(api.requests()); n != 1 {
				t.Errorf("API got %d requests after a %d, want 1", n, tc.first)
			}
		})
	}
}

func TestAPIChallenger_APIDownCountsError(t *testing.T) {
	api := startFakeAPI(t, http.StatusCreated)
	url := api.srv.URL
	api.srv.Close()
	c, logs := startChallenger(t, url, func(c *ChallengerConfig) { c.Timeout = time.Second })
	c.Deferred(context.Background(), deferral("dave@umkc.edu", "192.0.2.4"))
	waitCount(t, c, ChallengeError, 1)
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a failed request logged no warning:\n%s", logs)
	}
}

func TestAPIChallenger_FullQueueDropsWithoutBlocking(t *testing.T) {
	api := startFakeAPI(t, http.StatusCreated)
	// Not running: nothing drains the queue.
	c, err := NewAPIChallenger(ChallengerConfig{API: api.srv.URL, Token: "t", QueueSize: 2},
		slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 5 {
		c.Deferred(context.Background(), deferral("s@example.com", netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String()))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Deferred blocked for %v on a full queue", d)
	}
	if n := outcomeCount(t, c, ChallengeDropped); n != 3 {
		t.Errorf("dropped %v, want 3", n)
	}
	// A dropped pair is not remembered: once there is room it is asked.
	<-c.queue
	c.Deferred(context.Background(), deferral("s@example.com", "192.0.2.4"))
	if n := outcomeCount(t, c, ChallengeDuplicate); n != 0 {
		t.Errorf("a dropped pair counted as duplicate")
	}
}

func TestChallengerConfig_Invalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ChallengerConfig
		want string
	}{
		{"no scheme", ChallengerConfig{API: "127.0.0.1:8053", Token: "t"}, "want an http:// or https:// URL"},
		{"no token", ChallengerConfig{API: "http://127.0.0.1:8053"}, "token is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewAPIChallenger(tc.cfg, slog.New(slog.DiscardHandler), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestDedup_ForgetsAfterTTLAndStaysBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	d := newDedup(time.Minute, 2, func() time.Time { return now })
	a := netip.MustParseAddr("192.0.2.4")
	if !d.claim("x@example.com", a) || d.claim("X@example.com", a) {
		t.Fatal("the same pair (any case) claimed twice within the TTL")
	}
	now = now.Add(time.Minute)
	if !d.claim("x@example.com", a) {
		t.Fatal("pair not claimable after the TTL")
	}
	d.claim("y@example.com", a)
	d.claim("z@example.com", a) // table full of live entries: asked, not remembered
	if len(d.seen) > 2 {
		t.Errorf("dedup holds %d entries, limit 2", len(d.seen))
	}
	if !d.claim("z@example.com", a) {
		t.Error("a pair that did not fit was remembered")
	}
}

// TestServer_DeferralReachesTheAPI runs the policy service with the API
// challenger: a deferred sender makes one challenge request for all its
// recipients; report-only makes none.
func TestServer_DeferralReachesTheAPI(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reportOnly bool
		want       int
	}{
		{"enforcing", false, 1},
		{"report-only", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := startFakeAPI(t, http.StatusCreated)
			ch, _ := startChallenger(t, api.srv.URL, nil)
			h := newHarness(t, func(c *Config) { c.Challenger = ch; c.ReportOnly = tc.reportOnly })
			cl := dial(t, "tcp", h.addr)
			for range 3 {
				cl.ask(rcpt("dave@umkc.edu", "192.0.2.4"))
			}
			if tc.want > 0 {
				got := api.waitRequests(t, tc.want)
				if got[0]["sender"] != "dave@umkc.edu" || got[0]["ip"] != "192.0.2.4" {
					t.Errorf("request body %v", got[0])
				}
			}
			time.Sleep(50 * time.Millisecond)
			if n := len(api.requests()); n != tc.want {
				t.Errorf("API got %d challenge requests, want %d", n, tc.want)
			}
		})
	}
}

func TestAPIChallenger_MetricDocumented(t *testing.T) {
	for _, doc := range []string{"../docs/mta.md", "../docs/verification.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "`wlns_policy_challenge_requests_total`") {
			t.Errorf("%s does not list wlns_policy_challenge_requests_total", doc)
		}
		for _, o := range challengeOutcomes {
			if !strings.Contains(string(b), "`"+o+"`") {
				t.Errorf("%s does not list the outcome %s", doc, o)
			}
		}
	}
}

func TestAPIChallenger_HTTPSWithAPrivateCA(t *testing.T) {
	api := startFakeAPIOn(t, true, 201)
	pool := x509.NewCertPool()
	pool.AddCert(api.srv.Certificate())
	c, _ := startChallenger(t, api.srv.URL, func(cfg *ChallengerConfig) { cfg.RootCAs = pool })
	c.Deferred(context.Background(), deferral("dave@umkc.edu", "192.0.2.4"))
	api.waitRequests(t, 1)
	// The API has the request before the challenger has its answer: wait
	// for the count.
	waitCount(t, c, ChallengeSent, 1)
	if got := outcomeCount(t, c, ChallengeSent); got != 1 {
		t.Fatalf("sent %v, want 1 over HTTPS with the CA", got)
	}

	// Without the CA the server is not trusted and nothing is asked.
	untrusted := startFakeAPIOn(t, true, 201)
	c2, _ := startChallenger(t, untrusted.srv.URL, nil)
	c2.Deferred(context.Background(), deferral("eve@umkc.edu", "192.0.2.4"))
	waitCount(t, c2, ChallengeError, 1)
	if n := len(untrusted.requests()); n != 0 {
		t.Fatalf("the untrusted server got %d requests", n)
	}
}
