package console

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/expiry"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/raftstore"
	"github.com/wlns/wlns/record"
)

const adminSecret = "test-admin-secret"

// mailbox is a Mailer that keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	sent []string // "to\ntext"
}

func (m *mailbox) SendNotice(_ context.Context, to, _, text string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, to+"\n"+text)
	return nil
}

func (m *mailbox) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.sent...)
}

// rig is a console over a real single-node store with relay A
// (192.0.2.4, entity 1) and group B (198.51.100.0/28), each with a pair.
type rig struct {
	t     *testing.T
	st    *raftstore.Store
	c     *Console
	mail  *mailbox
	now   time.Time
	nowMu sync.Mutex
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := raftstore.Open(ctx, raftstore.Config{Dir: t.TempDir(), Bind: "127.0.0.1:0", Bootstrap: true,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, st: st, mail: &mailbox{}, now: time.Now()}
	r.apply(command.TokenPut, command.TokenBody{Name: "admin", Hash: admin.HashSecret(adminSecret), Role: "admin"})
	r.apply(command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.4"}, Contact: "pm-a@a.example", Registered: true})
	r.apply(command.EntityPut, command.EntityBody{Name: "bgroup", Group: true, Prefixes: []string{"198.51.100.0/28"}, Contact: "pm-b@b.example", Registered: true})
	r.apply(command.PairPut, command.PairBody{Sender: "dave@a.example", IP: "192.0.2.4"})
	r.apply(command.PairPut, command.PairBody{Sender: "secret@b.example", IP: "198.51.100.1"})
	windows := expiry.Windows{Pairs: 10 * 24 * time.Hour, Verps: 10 * 24 * time.Hour}
	r.c, err = New(Config{BaseURL: "https://wl.test", Mailer: r.mail, Logger: slog.New(slog.DiscardHandler),
		Now: r.clock, LookupRate: 3, Expiring: func(v *index.View, until time.Time, kind string, fn func(expiry.Item) bool) {
			windows.Expiring(v, 0, until, kind, fn)
		}}, st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) clock() time.Time {
	r.nowMu.Lock()
	defer r.nowMu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.nowMu.Lock()
	defer r.nowMu.Unlock()
	r.now = r.now.Add(d)
}

func (r *rig) apply(t command.Type, body any) {
	r.t.Helper()
	env, err := command.New(t, time.Now().Unix(), "", body)
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := r.st.Apply(context.Background(), env)
	if err != nil || res.Err != nil {
		r.t.Fatalf("%s: %v %v", t, err, res.Err)
	}
}

// do sends a request with the session cookie (when not empty) and form.
func (r *rig) do(method, path, cookie string, form url.Values) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "192.0.2.200:4000"
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: cookie})
	}
	req.AddCookie(&http.Cookie{Name: formCookieName, Value: rigFormCookie})
	w := httptest.NewRecorder()
	r.c.ServeHTTP(w, req)
	return w
}

// rigFormCookie is the form cookie the rig's browser sends with every
// request (wlns_console_form).
const rigFormCookie = "rig-form-cookie-0123456789"

// publicPost sends a public form (no session) with the form cookie's token, as
// the console's own pages do.
func (r *rig) publicPost(path string, form url.Values) *httptest.ResponseRecorder {
	r.t.Helper()
	f := url.Values{"csrf": {formTokenOf(rigFormCookie)}}
	for k, v := range form {
		f[k] = v
	}
	return r.do("POST", path, "", f)
}

// signIn signs in with secret and returns the session cookie and CSRF token.
func (r *rig) signIn(secret string) (string, string) {
	r.t.Helper()
	w := r.publicPost("/console/signin/token", url.Values{"token": {secret}})
	for _, ck := range w.Result().Cookies() {
		if ck.Name == cookieName {
			return ck.Value, csrfOf(ck.Value)
		}
	}
	r.t.Fatalf("sign-in with a token answered %d without a cookie: %s", w.Code, w.Body)
	return "", ""
}

var linkPath = regexp.MustCompile(`/console/link/[A-Za-z0-9_-]+`)

// signInByLink asks for a link for relay and uses it.
func (r *rig) signInByLink(relay string) (string, string) {
	r.t.Helper()
	before := len(r.mail.all())
	if w := r.publicPost("/console/signin/link", url.Values{"relay": {relay}}); w.Code != 200 {
		r.t.Fatalf("asking for a link: %d %s", w.Code, w.Body)
	}
	mails := r.mail.all()
	if len(mails) != before+1 {
		r.t.Fatalf("%d mails after asking for a link, want %d", len(mails), before+1)
	}
	path := linkPath.FindString(mails[before])
	w := r.publicPost(path, nil)
	for _, ck := range w.Result().Cookies() {
		if ck.Name == cookieName {
			return ck.Value, csrfOf(ck.Value)
		}
	}
	r.t.Fatalf("using the link answered %d without a cookie: %s", w.Code, w.Body)
	return "", ""
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestMagicLink_SingleUseShortLivedAndMailedToTheContact(t *testing.T) {
	r := newRig(t)
	w := r.publicPost("/console/signin/link", url.Values{"relay": {"192.0.2.4"}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "on its way") {
		t.Fatalf("asking for a link: %d %s", w.Code, w.Body)
	}
	mails := r.mail.all()
	if len(mails) != 1 || !strings.HasPrefix(mails[0], "pm-a@a.example\n") {
		t.Fatalf("mails %q, want one to the relay's contact", mails)
	}
	path := linkPath.FindString(mails[0])
	for _, tok := range r.st.Tokens() {
		if strings.Contains(path, tok.Hash) || strings.Contains(tok.Name, strings.TrimPrefix(path, "/console/link/")) {
			t.Errorf("the link's secret is stored in the clear in token %q", tok.Name)
		}
	}
	// A second request while the link lives mails nothing; nor does an
	// unknown relay, and the answer does not tell them apart.
	for _, relay := range []string{"192.0.2.4", "203.0.113.1", "nosuchgroup"} {
		w := r.publicPost("/console/signin/link", url.Values{"relay": {relay}})
		if w.Code != 200 || !strings.Contains(w.Body.String(), "on its way") {
			t.Errorf("link for %s: %d %s", relay, w.Code, w.Body)
		}
	}
	if n := len(r.mail.all()); n != 1 {
		t.Errorf("%d mails, want still 1", n)
	}
	if w := r.do("GET", path, "", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "<button") {
		t.Fatalf("opening the link: %d %s", w.Code, w.Body)
	}
	if w := r.publicPost(path, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("using the link: %d %s", w.Code, w.Body)
	}
	if w := r.publicPost(path, nil); w.Code != http.StatusGone {
		t.Errorf("using the link twice: %d, want 410", w.Code)
	}
	// A link past its lifetime is refused even before the sweep.
	r.publicPost("/console/signin/link", url.Values{"relay": {"bgroup"}})
	late := linkPath.FindString(r.mail.all()[1])
	r.advance(DefaultLinkTTL + time.Second)
	if w := r.publicPost(late, nil); w.Code != http.StatusGone {
		t.Errorf("using an expired link: %d, want 410", w.Code)
	}
	r.c.sweepTokens(context.Background())
	for _, tok := range r.st.Tokens() {
		if strings.HasPrefix(tok.Name, linkPrefix) {
			t.Errorf("token %s survived the sweep", tok.Name)
		}
	}
}

// TestSession_NeverReachesAnotherPrefix tries every way a postmaster
// signed in for relay A could name group B's data.
func TestSession_NeverReachesAnotherPrefix(t *testing.T) {
	r := newRig(t)
	cookie, csrf := r.signInByLink("192.0.2.4")
	b := fmt.Sprint(r.st.Index().Load().EntityOf(mustAddr("198.51.100.1")).ID)
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	for _, c := range []struct {
		name, method, path string
		form               url.Values
	}{
		{"pairs of B by URL", "GET", "/console/pairs?entity=" + b, nil},
		{"VERP of B by URL", "GET", "/console/pairs?kind=verp&entity=" + b, nil},
		{"add through B", "POST", "/console/pairs", form("sender", "x@a.example", "entity", b)},
		{"delete B's pair", "POST", "/console/pairs/delete", form("entity", b, "key", "secret@b.example")},
		{"pin B's pair", "POST", "/console/pin", form("entity", b, "key", "secret@b.example", "pinned", "1")},
		{"cluster page", "GET", "/console/cluster", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := r.do(c.method, c.path, cookie, c.form)
			if w.Code < 400 || strings.Contains(w.Body.String(), "secret@b.example") {
				t.Errorf("%s %s: %d\n%s", c.method, c.path, w.Code, w.Body)
			}
		})
	}
	for _, path := range []string{"/console/relays", "/console/pairs", "/console/pairs?q=b.example", "/console/expiring", "/console/challenges"} {
		if w := r.do("GET", path, cookie, nil); strings.Contains(w.Body.String(), "bgroup") || strings.Contains(w.Body.String(), "secret@") {
			t.Errorf("GET %s shows group B's data:\n%s", path, w.Body)
		}
	}
	v := r.st.Index().Load()
	if p := v.Pair(v.EntityOf(mustAddr("198.51.100.1")).ID, []byte("secret@b.example")); p == nil || p.Pinned {
		t.Errorf("B's pair after A's attempts: %+v", p)
	}
	if v.Counts().Pairs != 2 {
		t.Errorf("%d pairs after A's attempts, want 2", v.Counts().Pairs)
	}
}

func TestForms_RefuseMissingCSRFAndBadInput(t *testing.T) {
	r := newRig(t)
	cookie, csrf := r.signIn(adminSecret)
	if w := r.do("POST", "/console/pairs", cookie, url.Values{"sender": {"x@a.example"}, "entity": {"1"}}); w.Code != http.StatusForbidden {
		t.Errorf("a form without the CSRF token: %d, want 403", w.Code)
	}
	for _, c := range []struct{ sender, entity, want string }{
		{"", "1", "Enter a sender address"},
		{"not an address", "1", "is not a sender address or domain"},
		{"x@a.example", "999", "There is no relay 999"},
		{"x@a.example", "abc", "Choose one of your relays"},
	} {
		w := r.do("POST", "/console/pairs", cookie, url.Values{"csrf": {csrf}, "sender": {c.sender}, "entity": {c.entity}})
		if w.Code < 400 || !strings.Contains(w.Body.String(), c.want) || !strings.Contains(w.Body.String(), `role="alert"`) {
			t.Errorf("sender %q entity %s: %d, want a 4xx page saying %q:\n%s", c.sender, c.entity, w.Code, c.want, w.Body)
		}
	}
	if w := r.do("POST", "/console/pairs", cookie, url.Values{"csrf": {csrf}, "sender": {"new@a.example"}, "entity": {"1"}}); w.Code != http.StatusSeeOther {
		t.Errorf("a good pair: %d %s", w.Code, w.Body)
	}
	if w := r.do("POST", "/console/signout", cookie, url.Values{"csrf": {csrf}}); w.Code != 200 {
		t.Errorf("sign-out: %d", w.Code)
	}
	if w := r.do("GET", "/console/relays", cookie, nil); w.Code != http.StatusSeeOther {
		t.Errorf("a signed-out cookie still reaches a page: %d", w.Code)
	}
}

func TestLookup_ShowsWhatDNSShowsAndIsRateLimited(t *testing.T) {
	r := newRig(t)
	w := r.do("GET", "/console/lookup?s=dave@a.example&ip=192.0.2.4", "", nil)
	if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, "dave@a.example is verified via relay 192.0.2.4") ||
		strings.Contains(body, "pm-a@a.example") {
		t.Errorf("look-up of a listed sender: %d\n%s", w.Code, body)
	}
	w = r.do("GET", "/console/lookup?s=eve@a.example&ip=192.0.2.4", "", nil)
	if !strings.Contains(w.Body.String(), "not whitelisted") {
		t.Errorf("look-up of an unlisted sender: %s", w.Body)
	}
	r.do("GET", "/console/lookup?s=eve@a.example&ip=192.0.2.4", "", nil)
	if w := r.do("GET", "/console/lookup?s=eve@a.example&ip=192.0.2.4", "", nil); w.Code != http.StatusTooManyRequests {
		t.Errorf("the 4th look-up in a minute with a limit of 3: %d, want 429", w.Code)
	}
}

// TestPairs_CursorPagingListsEachPairOnce pages 260 pairs through the
// page's own next links.
func TestPairs_CursorPagingListsEachPairOnce(t *testing.T) {
	r := newRig(t)
	for i := range 260 {
		r.apply(command.PairPut, command.PairBody{Sender: fmt.Sprintf("u%03d@a.example", i), IP: "192.0.2.4"})
	}
	cookie, _ := r.signIn(adminSecret)
	seen := map[string]int{}
	next := regexp.MustCompile(`href="(/console/pairs\?[^"]*after=[0-9a-f]+)"`)
	row := regexp.MustCompile(`<td class="key">(u\d+@a\.example)</td>`)
	path := "/console/pairs?entity=1"
	for pages := 0; path != ""; pages++ {
		if pages > 10 {
			t.Fatal("more than 10 pages")
		}
		body := r.do("GET", path, cookie, nil).Body.String()
		for _, m := range row.FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
		path = ""
		if m := next.FindStringSubmatch(body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 260 {
		t.Errorf("paging listed %d distinct pairs, want 260", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", k, n)
		}
	}
}

// TestVerpAndPin_ThroughTheForms adds, pins, unpins and deletes a VERP
// source and pins a pair from the expiring page, reading the store after
// each step.
func TestVerpAndPin_ThroughTheForms(t *testing.T) {
	r := newRig(t)
	cookie, csrf := r.signInByLink("192.0.2.4")
	post := func(path string, kv ...string) *httptest.ResponseRecorder {
		t.Helper()
		v := url.Values{"csrf": {csrf}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return r.do("POST", path, cookie, v)
	}
	if w := post("/console/pairs", "kind", "verp", "sender", "Lists.Example.ORG", "entity", "1"); w.Code != http.StatusSeeOther {
		t.Fatalf("adding a VERP source: %d %s", w.Code, w.Body)
	}
	v := r.st.Index().Load()
	if vp := v.Verp(1, []byte("lists.example.org")); vp == nil || vp.By != "console:pm-a@a.example" || vp.Method != "console" {
		t.Fatalf("the VERP source added in the console: %+v", vp)
	}
	if w := r.do("GET", "/console/pairs?kind=verp", cookie, nil); !strings.Contains(w.Body.String(), "lists.example.org") {
		t.Errorf("the VERP page lacks the source:\n%s", w.Body)
	}
	w := r.do("GET", "/console/expiring", cookie, nil)
	for _, want := range []string{"dave@a.example", "lists.example.org"} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("the expiring page (10-day windows) lacks %s:\n%s", want, w.Body)
		}
	}
	if w := post("/console/pin", "kind", "pairs", "entity", "1", "key", "dave@a.example", "pinned", "1"); w.Code != http.StatusSeeOther {
		t.Fatalf("pinning: %d %s", w.Code, w.Body)
	}
	if w := post("/console/pin", "kind", "verp", "entity", "1", "key", "lists.example.org", "pinned", "1", "from", "pairs"); w.Code != http.StatusSeeOther ||
		!strings.Contains(w.Header().Get("Location"), "kind=verp") {
		t.Fatalf("pinning the VERP source from its page: %d %s", w.Code, w.Header())
	}
	v = r.st.Index().Load()
	if p, vp := v.Pair(1, []byte("dave@a.example")), v.Verp(1, []byte("lists.example.org")); !p.Pinned || !vp.Pinned {
		t.Errorf("after pinning: pair pinned %v, VERP source pinned %v", p.Pinned, vp.Pinned)
	}
	if w := r.do("GET", "/console/expiring", cookie, nil); strings.Contains(w.Body.String(), "dave@a.example") {
		t.Errorf("a pinned pair is still listed as expiring")
	}
	post("/console/pin", "kind", "pairs", "entity", "1", "key", "dave@a.example", "pinned", "0")
	if p := r.st.Index().Load().Pair(1, []byte("dave@a.example")); p.Pinned {
		t.Error("unpinning left the pair pinned")
	}
	if w := post("/console/pairs/delete", "kind", "verp", "entity", "1", "key", "lists.example.org"); w.Code != http.StatusSeeOther {
		t.Fatalf("deleting the VERP source: %d %s", w.Code, w.Body)
	}
	if r.st.Index().Load().Verp(1, []byte("lists.example.org")) != nil {
		t.Error("the VERP source survived its delete")
	}
	if w := post("/console/pairs/delete", "kind", "verp", "entity", "1", "key", "lists.example.org"); w.Code != http.StatusNotFound {
		t.Errorf("deleting it again: %d, want 404", w.Code)
	}
}

func TestSignin_NextStaysInTheConsole(t *testing.T) {
	r := newRig(t)
	for next, want := range map[string]string{
		"pairs":                "/console/pairs",
		"//evil.example/x":     "/console/relays",
		"https://evil.example": "/console/relays",
		"signin":               "/console/relays",
	} {
		w := r.publicPost("/console/signin/token", url.Values{"token": {adminSecret}, "next": {next}})
		if got := w.Header().Get("Location"); got != want {
			t.Errorf("next %q: redirected to %q, want %q", next, got, want)
		}
	}
	if w := r.publicPost("/console/signin/token", url.Values{"token": {"wrong"}}); w.Code != http.StatusUnauthorized ||
		!strings.Contains(w.Body.String(), "not known") {
		t.Errorf("a wrong token: %d %s", w.Code, w.Body)
	}
}

// spoolStore is a store cut off from its quorum that spools what it may.
type spoolStore struct {
	*readStore
	spooled []command.Type
}

func (s *spoolStore) ApplyOrSpool(_ context.Context, e *command.Envelope) (command.Result, bool, error) {
	s.spooled = append(s.spooled, e.Type)
	return command.Result{}, true, nil
}
func (s *spoolStore) SpoolCounts() (int, int) { return len(s.spooled), 0 }

// TestWrites_WithoutQuorum: an added pair is spooled and the page says so;
// a delete, which is never spooled, says the cluster cannot take it now.
func TestWrites_WithoutQuorum(t *testing.T) {
	ix := index.New()
	tx := ix.Begin()
	tx.PutEntity(&record.Entity{ID: 1, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.4/32")}, Registered: true})
	tx.PutPair(&record.Pair{Entity: 1, Sender: "dave@a.example"})
	tx.Commit()
	secret := "cut-off-session"
	st := &spoolStore{readStore: &readStore{ix: ix, tok: &record.Token{Name: sessionPrefix + "0-pm", Hash: admin.HashSecret(secret),
		Role: record.RolePostmaster, Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Created: time.Now().Unix()}}}
	con, err := New(Config{Logger: slog.New(slog.DiscardHandler)}, st)
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: cookieName, Value: secret})
		w := httptest.NewRecorder()
		con.ServeHTTP(w, req)
		return w
	}
	w := do("POST", "/console/pairs", url.Values{"csrf": {csrfOf(secret)}, "sender": {"eve@a.example"}, "entity": {"1"}})
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.Contains(loc, "done=spooled") {
		t.Fatalf("adding without a quorum: %d, Location %q", w.Code, loc)
	}
	if w := do("GET", w.Header().Get("Location"), nil); !strings.Contains(w.Body.String(), "commits it once the quorum is back") {
		t.Errorf("the page after a spooled add does not say so:\n%s", w.Body)
	}
	w = do("POST", "/console/pairs/delete", url.Values{"csrf": {csrfOf(secret)}, "key": {"dave@a.example"}, "entity": {"1"}})
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "cannot take changes right now") {
		t.Errorf("deleting without a quorum: %d\n%s", w.Code, w.Body)
	}
	if len(st.spooled) != 1 || st.spooled[0] != command.PairPut {
		t.Errorf("spooled %v, want one pair.put", st.spooled)
	}
}

func TestSignin_SessionSecretStartsNoNewSession(t *testing.T) {
	r := newRig(t)
	cookie, _ := r.signIn(adminSecret)
	// A copied session cookie pasted as a token would otherwise start a
	// fresh 12-hour session, and so on for ever.
	w := r.publicPost("/console/signin/token", url.Values{"token": {cookie}})
	if w.Code != http.StatusUnauthorized {
		t.Errorf("signing in with a session's own secret: %d, want 401", w.Code)
	}
	for _, ck := range w.Result().Cookies() {
		if ck.Name == cookieName && ck.Value != "" {
			t.Errorf("signing in with a session's own secret set a session cookie")
		}
	}
}

// TestSession_TokenNamesNameNobody: the session tokens of a link and of
// a pasted token are listed (GET /v1/tokens, wlns token list) and logged
// by name, which holds no contact address; the page still says who is
// signed in, and records added carry the contact as their by.
func TestSession_TokenNamesNameNobody(t *testing.T) {
	r := newRig(t)
	cookie, _ := r.signInByLink("192.0.2.4")
	r.signIn(adminSecret)
	var names []string
	for _, tok := range r.st.Tokens() {
		if strings.HasPrefix(tok.Name, sessionPrefix) {
			names = append(names, tok.Name)
			if strings.Contains(tok.Name, "@") || strings.Contains(tok.Name, "pm-a") {
				t.Errorf("session token %q names the contact", tok.Name)
			}
		}
	}
	if len(names) != 2 {
		t.Fatalf("session tokens %q, want 2", names)
	}
	if body := r.do("GET", "/console/relays", cookie, nil).Body.String(); !strings.Contains(body, "Signed in as pm-a@a.example") {
		t.Errorf("the link's session does not say who is signed in:\n%s", body)
	}
}
