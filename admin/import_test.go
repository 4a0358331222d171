package admin

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wlns/wlns/command"
)

func TestImport_BadLineRejectsOnlyItsBatch(t *testing.T) {
	env := newTestEnv(t)
	lines := []string{
		`{"kind":"group","name":"mx","members":["198.51.100.0/29"],"contact":"pm@b.example","registered":true}`,
		`{"kind":"relay","ip":"192.0.2.1","contact":"pm@a.example"}`,
		``,
		`# a comment`,
		`{"kind":"pair","sender":"a@a.example","ip":"192.0.2.1"}`,
		`{"kind":"pair","sender":"not an address","ip":"192.0.2.1"}`, // line 6: batch 2 rejected
		`{"kind":"pair","sender":"c@a.example","ip":"192.0.2.1"}`,
		`{"kind":"verp","domain":"lists.b.example","ip":"198.51.100.3"}`,
	}
	r := env.must(http.StatusOK, "POST", "/v1/import?batch=2", adminSecret, strings.Join(lines, "\n"))
	var rep ImportReport
	r.json(t, &rep)
	if rep.Lines != 6 || rep.Applied != 4 || rep.Rejected != 2 || len(rep.Batches) != 3 {
		t.Fatalf("report %+v", rep)
	}
	b := rep.Batches[1]
	if b.Applied || b.FirstLine != 5 || b.LastLine != 6 || !strings.Contains(b.Error, "line 6") {
		t.Errorf("batch 2: %+v", b)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Line != 6 || !strings.Contains(rep.Errors[0].Error, "not an address") {
		t.Errorf("errors: %+v", rep.Errors)
	}
	v := env.api.store.Index().Load()
	relay := v.EntityOf(netip.MustParseAddr("192.0.2.1"))
	if relay == nil || !relay.Registered {
		t.Fatalf("relay line not applied: %+v", relay)
	}
	if v.Pair(relay.ID, []byte("a@a.example")) != nil {
		t.Error("a pair of the rejected batch was applied")
	}
	if v.Pair(relay.ID, []byte("c@a.example")) == nil {
		t.Error("a pair of the batch after the rejected one is missing")
	}
	if v.Counts().VerpSources != 1 {
		t.Error("verp line not applied")
	}
}

func TestImport_StateMachineRejectionNamesTheLine(t *testing.T) {
	env := newTestEnv(t)
	env.must(http.StatusCreated, "POST", "/v1/groups", adminSecret, `{"name":"taken","members":["192.0.2.0/28"]}`)
	body := `{"kind":"pair","sender":"a@a.example","ip":"203.0.113.1"}
{"kind":"group","name":"new","members":["203.0.113.64/26","192.0.2.0/28"]}
{"kind":"pair","sender":"b@a.example","ip":"203.0.113.2"}`
	var rep ImportReport
	env.must(http.StatusOK, "POST", "/v1/import", adminSecret, body).json(t, &rep)
	if rep.Applied != 0 || rep.Rejected != 3 || len(rep.Errors) != 1 || rep.Errors[0].Line != 2 {
		t.Fatalf("report %+v", rep)
	}
	if n := env.api.store.Index().Load().Counts().Pairs; n != 0 {
		t.Errorf("%d pairs applied from a rejected batch", n)
	}
}

func TestImport_ReimportRefreshes(t *testing.T) {
	env := newTestEnv(t)
	var sb strings.Builder
	for i := range 250 {
		fmt.Fprintf(&sb, `{"kind":"pair","sender":"u%d@example.com","ip":"192.0.2.%d"}`+"\n", i, i%200+1)
	}
	for range 2 {
		var rep ImportReport
		env.must(http.StatusOK, "POST", "/v1/import?batch=100", adminSecret, sb.String()).json(t, &rep)
		if rep.Applied != 250 || len(rep.Batches) != 3 {
			t.Fatalf("report %+v", rep)
		}
	}
	if n := env.api.store.Index().Load().Counts().Pairs; n != 250 {
		t.Errorf("%d pairs, want 250", n)
	}
}

func TestImport_Errors(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name, path, secret, body, ctype string
		want                            int
		msg                             string
	}{
		{"read token", "/v1/import", readSecret, "{}", "", http.StatusForbidden, "may only read"},
		{"bad batch", "/v1/import?batch=0", adminSecret, "{}", "", http.StatusBadRequest, "batch"},
		{"wrong content type", "/v1/import", adminSecret, "{}", "text/csv", http.StatusUnsupportedMediaType, "x-ndjson"},
		{"line too long", "/v1/import", adminSecret, strings.Repeat("x", MaxImportLine+10), "", http.StatusBadRequest, "line 1 is longer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do("POST", tt.path, tt.secret, tt.body, "Content-Type", tt.ctype)
			if r.status != tt.want || !strings.Contains(r.errorMsg(t), tt.msg) {
				t.Fatalf("status %d (want %d), body %s (want %q)", r.status, tt.want, r.body, tt.msg)
			}
		})
	}
	lines := map[string]string{
		`{"kind":"pair","sender":"a@b.example","domain":"x.example","ip":"192.0.2.1"}`: `"domain" does not apply`,
		`{"kind":"mx"}`: `unknown kind "mx"`,
		`{"kind":"pairs","sender":"a@b.example","ip":"192.0.2.1"}`:                  `unknown kind "pairs": want pair, verp, relay or group`,
		"{\"kind\":\"pair\",\"sender\":\"d\xffve@b.example\",\"ip\":\"192.0.2.1\"}": "not valid UTF-8 at byte 26",
		`{"kind":"pair","sender":"a@b.example","ip":"192.0.2.1","x":1}`:             `unknown field "x"`,
		`[1,2]`: "bad JSON",
		`{"kind":"pair","sender":"a@b.example","ip":"198.51.100.1"}`: "", // ok for admin
	}
	for line, msg := range lines {
		var rep ImportReport
		env.must(http.StatusOK, "POST", "/v1/import", adminSecret, line).json(t, &rep)
		if msg == "" {
			if rep.Applied != 1 {
				t.Errorf("%s: %+v", line, rep)
			}
			continue
		}
		if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error, msg) {
			t.Errorf("%s: errors %+v, want %q", line, rep.Errors, msg)
		}
	}
}

func TestImport_StoreDownIs503(t *testing.T) {
	env := newTestEnv(t)
	env.store.err = errors.New("not the raft leader")
	r := env.must(http.StatusServiceUnavailable, "POST", "/v1/import", adminSecret, `{"kind":"pair","sender":"a@b.example","ip":"192.0.2.1"}`)
	if !strings.Contains(r.errorMsg(t), "not the raft leader") {
		t.Errorf("error %q", r.errorMsg(t))
	}
}

// TestImport_AppliesBatchesWhileTheBodyStreams shows the import is read as a
// stream: the first batch is applied before the client has sent the rest.
func TestImport_AppliesBatchesWhileTheBodyStreams(t *testing.T) {
	env := newTestEnv(t)
	pr, pw := io.Pipe()
	req := httptest.NewRequest("POST", "/v1/import?batch=2", pr)
	req.Header.Set("Authorization", "Bearer "+adminSecret)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { env.api.ServeHTTP(w, req); close(done) }()

	fmt.Fprintln(pw, `{"kind":"pair","sender":"a@b.example","ip":"192.0.2.1"}`)
	fmt.Fprintln(pw, `{"kind":"pair","sender":"b@b.example","ip":"192.0.2.1"}`)
	deadline := time.Now().Add(5 * time.Second)
	for env.store.Index().Load().Counts().Pairs != 2 {
		if time.Now().After(deadline) {
			t.Fatal("first batch not applied while the body is still open")
		}
		time.Sleep(5 * time.Millisecond)
	}
	fmt.Fprintln(pw, `{"kind":"pair","sender":"c@b.example","ip":"192.0.2.1"}`)
	pw.Close()
	<-done
	var rep ImportReport
	response{status: w.Code, body: w.Body.String()}.json(t, &rep)
	if rep.Applied != 3 || len(rep.Batches) != 2 {
		t.Fatalf("report %+v", rep)
	}
}

func TestImport_PostmasterStaysInsideItsPrefixes(t *testing.T) {
	env := newTestEnv(t)
	body := `{"kind":"pair","sender":"a@b.example","ip":"192.0.2.1"}
{"kind":"pair","sender":"a@b.example","ip":"203.0.113.1"}
{"kind":"relay","ip":"2001:db8::25","contact":"pm@b.example"}`
	var rep ImportReport
	env.must(http.StatusOK, "POST", "/v1/import?batch=1", postmasterSecret, body).json(t, &rep)
	if rep.Applied != 2 || len(rep.Errors) != 1 || rep.Errors[0].Line != 2 || !strings.Contains(rep.Errors[0].Error, "outside its prefixes") {
		t.Fatalf("report %+v", rep)
	}
}

func TestImport_LargeLinesEndABatchEarly(t *testing.T) {
	env := newTestEnv(t)
	env.api.maxBatchBytes = 300
	var sb strings.Builder
	for i := range 6 {
		fmt.Fprintf(&sb, `{"kind":"group","name":"g%d","members":["10.%d.0.0/24","10.%d.1.0/24","10.%d.2.0/24","10.%d.3.0/24"]}`+"\n", i, i, i, i, i)
	}
	var rep ImportReport
	env.must(http.StatusOK, "POST", "/v1/import?batch=1000", adminSecret, sb.String()).json(t, &rep)
	if rep.Applied != 6 || len(rep.Batches) < 2 {
		t.Fatalf("6 large lines in one batch despite the size cap: %+v", rep)
	}
}

// An import batch of pairs goes as one record list grouped by relay, not
// in line order; a record the state machine rejects must still be named by
// its own input line.
func TestImport_RejectedRecordOfAGroupedBatchNamesItsLine(t *testing.T) {
	env := newTestEnv(t)
	var g, r struct {
		ID uint64 `json:"id"`
	}
	env.must(http.StatusCreated, "POST", "/v1/groups", adminSecret, `{"name":"mx","members":["198.51.100.0/29"]}`).json(t, &g)
	env.must(http.StatusCreated, "POST", "/v1/relays", adminSecret, `{"ip":"192.0.2.1","contact":"pm@a.example"}`).json(t, &r)
	if g.ID == 0 || r.ID <= g.ID {
		t.Fatalf("group %d, relay %d: want the relay's ID above the group's", g.ID, r.ID)
	}
	env.store.before = func(e *command.Envelope) []*command.Envelope {
		if e.Type != command.Import {
			return nil
		}
		// The relay is deleted after the lines were checked, before the
		// batch applies.
		del, err := command.New(command.EntityDelete, e.Time, "", command.EntityBody{ID: r.ID})
		if err != nil {
			t.Fatal(err)
		}
		return []*command.Envelope{del}
	}
	body := fmt.Sprintf(`{"kind":"pair","sender":"a@a.example","ip":"203.0.113.1"}
{"kind":"pair","sender":"b@a.example","entity":%d}
{"kind":"pair","sender":"c@a.example","entity":%d}
{"kind":"pair","sender":"d@a.example","ip":"203.0.113.2"}`, g.ID, r.ID)
	var rep ImportReport
	env.must(http.StatusOK, "POST", "/v1/import", adminSecret, body).json(t, &rep)
	if rep.Applied != 0 || rep.Rejected != 4 || len(rep.Errors) != 1 || rep.Errors[0].Line != 3 {
		t.Fatalf("report %+v: want the batch rejected for line 3", rep)
	}
	if !strings.Contains(rep.Errors[0].Error, fmt.Sprintf("no entity %d", r.ID)) {
		t.Errorf("error %q does not name the deleted relay", rep.Errors[0].Error)
	}
	if n := env.api.store.Index().Load().Counts().Pairs; n != 0 {
		t.Errorf("%d pairs applied from a rejected batch", n)
	}
}

// Relay lines go in the record list as registrations, before the batch's
// records, unless one follows a pair or VERP line (the Batch keeps line
// order); a relay line for an address a batch still in flight named is
// checked after that batch (it registers the lone entity a pair made).
func TestImport_RelayLinesGoInTheRecordList(t *testing.T) {
	env := newTestEnv(t)
	var mu sync.Mutex
	var types []command.Type
	env.store.before = func(e *command.Envelope) []*command.Envelope {
		mu.Lock()
		defer mu.Unlock()
		types = append(types, e.Type)
		return nil
	}
	body := `{"kind":"relay","ip":"192.0.2.1","contact":"pm@a.example"}
{"kind":"relay","ip":"192.0.2.2","contact":"pm@a.example","ptr":"mx.a.example"}
{"kind":"pair","sender":"a@a.example","ip":"192.0.2.1"}
{"kind":"pair","sender":"b@a.example","ip":"203.0.113.9"}
{"kind":"relay","ip":"203.0.113.9","contact":"pm@b.example"}
{"kind":"relay","ip":"192.0.2.3","contact":"pm@a.example"}
{"kind":"pair","sender":"c@a.example","ip":"192.0.2.3"}
{"kind":"relay","ip":"192.0.2.4","contact":"pm@a.example"}`
	var rep ImportReport
	env.must(http.StatusOK, "POST", "/v1/import?batch=4", adminSecret, body).json(t, &rep)
	if rep.Applied != 8 || rep.Rejected != 0 {
		t.Fatalf("report %+v", rep)
	}
	if want := []command.Type{command.Import, command.Batch}; !slices.Equal(types, want) {
		t.Errorf("proposed %v, want %v", types, want)
	}
	v := env.api.store.Index().Load()
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "203.0.113.9", "192.0.2.3", "192.0.2.4"} {
		if e := v.EntityOf(netip.MustParseAddr(ip)); e == nil || !e.Registered || e.Contact == "" {
			t.Errorf("relay %s: %+v", ip, e)
		}
	}
	if e := v.EntityOf(netip.MustParseAddr("203.0.113.9")); e == nil || v.Pair(e.ID, []byte("b@a.example")) == nil {
		t.Error("the relay line made another entity than the pair's")
	}
	if e := v.EntityOf(netip.MustParseAddr("192.0.2.2")); e == nil || e.PTR != "mx.a.example" {
		t.Errorf("relay 192.0.2.2: %+v", e)
	}
}
