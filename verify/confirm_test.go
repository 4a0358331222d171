package verify

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func TestConfirmReply_ConfirmsOnce(t *testing.T) {
	e := newEnv(t)
	c, tok := e.mustSend("alice@example.com", groupIP)
	if got := e.svc.Open(strings.ToUpper(tok)); got == nil || got.ID != c.ID {
		t.Fatalf("Open(token) = %+v", got)
	}
	got, err := e.svc.ConfirmReply(context.Background(), strings.ToUpper(tok))
	if err != nil || got.State != record.ChallengeConfirmed || got.Method != "reply" {
		t.Fatalf("ConfirmReply: %+v, %v", got, err)
	}
	if p := e.store.Index().Load().Pair(e.group, []byte("alice@example.com")); p == nil || p.Method != "challenge-reply" {
		t.Fatalf("pair after a reply: %+v", p)
	}
	if e.svc.Open(tok) != nil {
		t.Fatal("Open still returns a used token")
	}
	if _, err := e.svc.ConfirmReply(context.Background(), tok); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("second reply: %v, want ErrUnknownToken", err)
	}
	other, _ := newToken()
	for _, bad := range []string{other, "", "not-a-token"} {
		if _, err := e.svc.ConfirmReply(context.Background(), bad); !errors.Is(err, ErrUnknownToken) {
			t.Fatalf("ConfirmReply(%q): %v, want ErrUnknownToken", bad, err)
		}
	}
}

func TestOpen_ExpiredIsNil(t *testing.T) {
	e := newEnv(t)
	_, tok := e.mustSend("alice@example.com", groupIP)
	e.now = e.now.Add(DefaultTTL - 1)
	if e.svc.Open(tok) == nil {
		t.Fatal("open a second before expiry: nil")
	}
	e.now = e.now.Add(1)
	if e.svc.Open(tok) != nil {
		t.Fatal("open at expiry: not nil")
	}
}

// spoolStore spools every confirmation instead of applying it.
type spoolStore struct {
	*fsmStore
	spooled []command.Type
}

func (s *spoolStore) ApplyOrSpool(_ context.Context, e *command.Envelope) (command.Result, bool, error) {
	s.spooled = append(s.spooled, e.Type)
	return command.Result{}, true, nil
}

func TestConfirm_UsesTheSpool(t *testing.T) {
	e := newEnv(t)
	sp := &spoolStore{fsmStore: e.store}
	cfg := e.svc.cfg
	cfg.Registerer = nil
	svc, err := New(cfg, sp)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	_, tok := e.mustSend("alice@example.com", groupIP)
	r := e.page("POST", "/verify/confirm/"+tok)
	if r.status != http.StatusOK || !strings.Contains(r.body, "recorded on this server") {
		t.Fatalf("spooled confirmation page: %d\n%s", r.status, r.body)
	}
	if len(sp.spooled) != 1 || sp.spooled[0] != command.ChallengeConfirm {
		t.Fatalf("spooled %v", sp.spooled)
	}
}

func TestMetrics_CountOutcomes(t *testing.T) {
	e := newEnv(t)
	_, tok1 := e.mustSend("a@example.com", groupIP)
	_, tok2 := e.mustSend("b@example.com", groupIP)
	_, tok3 := e.mustSend("c@example.com", groupIP)
	_, tok4 := e.mustSend("d@example.com", groupIP)
	e.request("a@example.com", groupIP)
	e.request("postmaster@example.com", groupIP)
	e.request("a@example.com", strangerIP)
	e.page("POST", "/verify/confirm/"+tok1)
	if _, err := e.svc.ConfirmReply(context.Background(), tok2); err != nil {
		t.Fatal(err)
	}
	e.page("POST", "/verify/forgery/"+tok3)
	e.page("POST", "/verify/list/"+tok4)
	e.request("a@example.com", groupIP)
	got := gatherChallenges(t, e)
	want := map[string]float64{"sent": 5, "open": 1, "listed": 1, "refused": 1, "no_entity": 1, "limited": 0, "send_failed": 0,
		"confirmed_link": 1, "confirmed_reply": 1, "forgery": 1, "list": 1}
	for o, n := range want {
		if got[o] != n {
			t.Errorf("%s{outcome=%q} = %v, want %v", MetricChallenges, o, got[o], n)
		}
	}
	if got["mail"] != 5 {
		t.Errorf("%s counted %v mails, want 5", MetricMail, got["mail"])
	}
}

// gatherChallenges returns wlns_challenges_total by outcome, and the
// number of mail timings under "mail"; it checks that every metric is
// documented in docs/api.md.
func gatherChallenges(t *testing.T, e *testEnv) map[string]float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if !strings.Contains(string(doc), "`"+mf.GetName()+"`") || mf.GetHelp() == "" {
			t.Errorf("metric %s has no help or is not listed in docs/api.md", mf.GetName())
		}
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case MetricChallenges:
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			case MetricLimited:
				got["limit="+m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			case MetricMail:
				got["mail"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return got
}
