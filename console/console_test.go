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
	"github.com/wlns/wlns/raftstore"
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
	r.c, err = New(Config{BaseURL: "https://wl.test", Mailer: r.mail, Logger: slog.New(slog.DiscardHandler),
		Now: r.clock, LookupRate: 3}, st)
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
	w := httptest.NewRecorder()
	r.c.ServeHTTP(w, req)
	return w
}

// signIn signs in with secret and returns the session cookie and CSRF token.
func (r *rig) signIn(secret string) (string, string) {
	r.t.Helper()
	w := r.do("POST", "/console/signin/token", "", url.Values{"token": {secret}})
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
	if w := r.do("POST", "/console/signin/link", "", url.Values{"relay": {relay}}); w.Code != 200 {
		r.t.Fatalf("asking for a link: %d %s", w.Code, w.Body)
	}
	mails := r.mail.all()
	if len(mails) != before+1 {
		r.t.Fatalf("%d mails after asking for a link, want %d", len(mails), before+1)
	}
	path := linkPath.FindString(mails[before])
	w := r.do("POST", path, "", nil)
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
	w := r.do("POST", "/console/signin/link", "", url.Values{"relay": {"192.0.2.4"}})
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
		w := r.do("POST", "/console/signin/link", "", url.Values{"relay": {relay}})
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
	if w := r.do("POST", path, "", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("using the link: %d %s", w.Code, w.Body)
	}
	if w := r.do("POST", path, "", nil); w.Code != http.StatusGone {
		t.Errorf("using the link twice: %d, want 410", w.Code)
	}
	// A link past its lifetime is refused even before the sweep.
	r.do("POST", "/console/signin/link", "", url.Values{"relay": {"bgroup"}})
	late := linkPath.FindString(r.mail.all()[1])
	r.advance(DefaultLinkTTL + time.Second)
	if w := r.do("POST", late, "", nil); w.Code != http.StatusGone {
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
