package console

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// post sends a form with the CSRF token and the fields kv (name, value, …).
func (r *rig) post(path, cookie, csrf string, kv ...string) *httptest.ResponseRecorder {
	r.t.Helper()
	v := url.Values{"csrf": {csrf}}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return r.do("POST", path, cookie, v)
}

// refused checks that w is the page again with status code and want in
// its alert.
func refused(t *testing.T, w *httptest.ResponseRecorder, code int, want string) {
	t.Helper()
	if w.Code != code || !strings.Contains(w.Body.String(), want) || !strings.Contains(w.Body.String(), `role="alert"`) {
		t.Errorf("%d, want %d and a message saying %q:\n%s", w.Code, code, want, w.Body)
	}
}

// groupNamed is the group called name in the store, or nil.
func (r *rig) groupNamed(name string) *record.Entity {
	var found *record.Entity
	r.st.Index().Load().Entities(func(e *record.Entity) bool {
		if e.Group && e.Name == name {
			found = e
		}
		return found == nil
	})
	return found
}

// postmaster puts a postmaster token for prefixes and signs in with it.
func (r *rig) postmaster(name string, prefixes ...string) (string, string) {
	r.t.Helper()
	secret := "secret-of-" + name
	r.apply(command.TokenPut, command.TokenBody{Name: name, Hash: admin.HashSecret(secret), Role: "postmaster", Prefixes: prefixes})
	return r.signIn(secret)
}

func prefixesOf(e *record.Entity) []string {
	var out []string
	for _, p := range e.Prefixes {
		out = append(out, p.String())
	}
	return out
}

func TestGroups_PostmasterCreatesAndEditsInsideTheirPrefixesOnly(t *testing.T) {
	r := newRig(t)
	cookie, csrf := r.postmaster("pm-a", "192.0.2.0/24")
	save := func(kv ...string) *httptest.ResponseRecorder {
		t.Helper()
		return r.post("/console/groups", cookie, csrf, kv...)
	}
	if w := r.do("GET", "/console/groups", cookie, nil); w.Code != 200 || !strings.Contains(w.Body.String(), `<label for="members">`) ||
		!strings.Contains(w.Body.String(), "inside your prefixes: 192.0.2.0/24") {
		t.Fatalf("the new-group form: %d\n%s", w.Code, w.Body)
	}
	res := save("name", "Pool", "members", "192.0.2.8/29\n192.0.2.16, 192.0.2.17", "contact", "pm@a.example", "registered", "1")
	if res.Code != http.StatusSeeOther || res.Header().Get("Location") != "/console/relays?done=saved" {
		t.Fatalf("creating a group: %d %s\n%s", res.Code, res.Header().Get("Location"), res.Body)
	}
	g := r.groupNamed("pool")
	if g == nil || !g.Registered || g.Contact != "pm@a.example" ||
		!slices.Equal(prefixesOf(g), []string{"192.0.2.8/29", "192.0.2.16/32", "192.0.2.17/32"}) {
		t.Fatalf("the group created in the console: %+v", g)
	}
	if w := r.do("GET", "/console/relays?done=saved", cookie, nil); !strings.Contains(w.Body.String(), "Saved.") ||
		!strings.Contains(w.Body.String(), `href="/console/groups?id=`) {
		t.Errorf("the relays page after saving lacks the notice or the edit link:\n%s", w.Body)
	}
	id := strconv.FormatUint(g.ID, 10)
	if w := r.do("GET", "/console/groups?id="+id, cookie, nil); !strings.Contains(w.Body.String(), "192.0.2.8/29\n192.0.2.16/32") ||
		!strings.Contains(w.Body.String(), `value="pool"`) {
		t.Errorf("the edit form does not show the group:\n%s", w.Body)
	}

	for _, c := range []struct {
		name string
		form []string
		code int
		want string
	}{
		{"member outside", []string{"name", "wide", "members", "192.0.2.32/28\n203.0.113.0/24"}, http.StatusForbidden,
			"203.0.113.0/24 lies outside your prefixes (192.0.2.0/24)"},
		{"edit to outside", []string{"id", id, "name", "pool", "members", "198.51.100.64/26"}, http.StatusForbidden, "lies outside your prefixes"},
		{"edit group B", []string{"id", "2", "name", "bgroup", "members", "192.0.2.64/26"}, http.StatusNotFound, "There is no relay 2"},
		{"bad name", []string{"name", "Has Space", "members", "192.0.2.64/26"}, http.StatusBadRequest, "Invalid group name"},
		{"all digits", []string{"name", "123", "members", "192.0.2.64/26"}, http.StatusBadRequest, "Invalid group name"},
		{"no members", []string{"name", "empty", "members", " \n"}, http.StatusBadRequest, "at least one member"},
		{"bad member", []string{"name", "bad", "members", "192.0.2.300"}, http.StatusBadRequest, "Invalid prefix"},
		{"taken name", []string{"name", "bgroup", "members", "192.0.2.64/26"}, http.StatusConflict, "exists"},
		{"registered without contact", []string{"name", "nocontact", "members", "192.0.2.64/26", "registered", "1"}, http.StatusBadRequest, "Contact is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, save(c.form...), c.code, c.want)
		})
	}
	if g := r.groupNamed("wide"); g != nil {
		t.Errorf("a group with a member outside the session's prefixes was made: %+v", g)
	}
	if b := r.groupNamed("bgroup"); !slices.Equal(prefixesOf(b), []string{"198.51.100.0/28"}) {
		t.Errorf("group B after A's attempts: %+v", b)
	}

	// Editing keeps what the form does not show (the pin).
	r.apply(command.EntityPut, command.EntityBody{ID: g.ID, Name: "pool", Group: true, Prefixes: prefixesOf(g), Contact: "pm@a.example", Registered: true, Pinned: true})
	if res := save("id", id, "name", "pool", "members", "192.0.2.8/29", "contact", "pm@a.example"); res.Code != http.StatusSeeOther {
		t.Fatalf("editing the group: %d\n%s", res.Code, res.Body)
	}
	g = r.groupNamed("pool")
	if !slices.Equal(prefixesOf(g), []string{"192.0.2.8/29"}) || g.Registered || !g.Pinned {
		t.Errorf("the group after editing: %+v", g)
	}
	if r.st.Index().Load().EntityOf(netip.MustParseAddr("192.0.2.16")) != nil {
		t.Error("a member removed in the form still belongs to an entity")
	}
}

func TestGroups_AdminCreatesAnywhere(t *testing.T) {
	r := newRig(t)
	cookie, csrf := r.signIn(adminSecret)
	w := r.do("POST", "/console/groups", cookie, url.Values{"csrf": {csrf}, "name": {"far"}, "members": {"203.0.113.0/24\n2001:db8::/48"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("an admin creating a group: %d\n%s", w.Code, w.Body)
	}
	if g := r.groupNamed("far"); g == nil || !slices.Equal(prefixesOf(g), []string{"203.0.113.0/24", "2001:db8::/48"}) {
		t.Errorf("the admin's group: %+v", g)
	}
	if w := r.do("POST", "/console/groups", cookie, url.Values{"name": {"nocsrf"}, "members": {"203.0.114.0/24"}}); w.Code != http.StatusForbidden {
		t.Errorf("a group form without the CSRF token: %d, want 403", w.Code)
	}
}
