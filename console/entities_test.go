package console

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
)

func mustID(t *testing.T, s string) uint64 {
	t.Helper()
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestRelays_PostmasterEditsAndDeletesTheirLoneRelay edits relay A's
// contact and registration (bad input refused in the page), then deletes
// it through its confirmation page: its pair goes with it. Group B's ID in
// the URL or the form is refused, and so is a group on the relay pages.
func TestRelays_PostmasterEditsAndDeletesTheirLoneRelay(t *testing.T) {
	r := newRig(t)
	r.apply(command.EntityPut, command.EntityBody{Prefixes: []string{"192.0.2.5"}, Contact: "pm-a@a.example", Registered: true, PTR: "mx5.a.example", Pinned: true})
	cookie, csrf := r.postmaster("pm-a", "192.0.2.0/24")
	v := r.st.Index().Load()
	relay5 := fmt.Sprint(v.EntityOf(mustAddr("192.0.2.5")).ID)
	b := fmt.Sprint(v.EntityOf(mustAddr("198.51.100.1")).ID)
	if body := r.do("GET", "/console/relays", cookie, nil).Body.String(); !strings.Contains(body, `href="/console/relays/edit?id=1"`) ||
		!strings.Contains(body, `href="/console/relays/delete?id=1"`) {
		t.Errorf("the relays page links no edit and delete for relay 1:\n%s", body)
	}
	if body := r.do("GET", "/console/relays/edit?id="+relay5, cookie, nil).Body.String(); !strings.Contains(body, `value="pm-a@a.example"`) ||
		!strings.Contains(body, "mx5.a.example") {
		t.Errorf("the edit form lacks the relay's contact or PTR:\n%s", body)
	}
	refused(t, r.post("/console/relays/edit", cookie, csrf, "id", relay5, "contact", "not an address", "registered", "1"),
		http.StatusBadRequest, "Invalid contact")
	refused(t, r.post("/console/relays/edit", cookie, csrf, "id", relay5, "contact", "", "registered", "1"),
		http.StatusBadRequest, "Contact is required for a registered relay")
	if w := r.post("/console/relays/edit", cookie, csrf, "id", relay5, "contact", "new@a.example", "registered", "1"); w.Code != http.StatusSeeOther {
		t.Fatalf("saving the relay: %d %s", w.Code, w.Body)
	}
	e := r.st.Index().Load().Entity(mustID(t, relay5))
	if e.Contact != "new@a.example" || !e.Registered || e.PTR != "mx5.a.example" || !e.Pinned || prefixesOf(e)[0] != "192.0.2.5/32" {
		t.Errorf("the relay after the edit: %+v, want the new contact with its address, PTR and pin kept", e)
	}
	if w := r.post("/console/relays/edit", cookie, csrf, "id", relay5, "contact", ""); w.Code != http.StatusSeeOther ||
		r.st.Index().Load().Entity(mustID(t, relay5)).Registered {
		t.Errorf("unregistering the relay: %d, registered still", w.Code)
	}
	// Registering it again checks its reverse DNS as the registration page
	// does: refused while its PTR name does not resolve back, then taken
	// with the confirmed name.
	res, queries := localDNS(t, map[string][]string{
		"5.2.0.192.in-addr.arpa.": {"PTR mx5-new.a.example."},
		"mx5-new.a.example.":      {"A 192.0.2.99"},
	})
	r.c.cfg.Resolver = res
	refused(t, r.post("/console/relays/edit", cookie, csrf, "id", relay5, "contact", "new@a.example", "registered", "1"),
		http.StatusUnprocessableEntity, "does not resolve back to 192.0.2.5")
	if e := r.st.Index().Load().Entity(mustID(t, relay5)); e.Registered || queries.Load() == 0 {
		t.Fatalf("a relay whose PTR does not resolve back was registered (%d queries)", queries.Load())
	}
	res, _ = localDNS(t, map[string][]string{
		"5.2.0.192.in-addr.arpa.": {"PTR mx5-new.a.example."},
		"mx5-new.a.example.":      {"A 192.0.2.5"},
	})
	r.c.cfg.Resolver = res
	if w := r.post("/console/relays/edit", cookie, csrf, "id", relay5, "contact", "new@a.example", "registered", "1"); w.Code != http.StatusSeeOther {
		t.Fatalf("registering the relay again: %d %s", w.Code, w.Body)
	}
	if e := r.st.Index().Load().Entity(mustID(t, relay5)); !e.Registered || e.PTR != "mx5-new.a.example" {
		t.Errorf("the relay registered again: %+v, want the confirmed PTR", e)
	}

	for _, c := range []struct{ name, method, path, id, want string }{
		{"edit B by URL", "GET", "/console/relays/edit?id=" + b, "", "There is no relay " + b + " among yours"},
		{"delete B by URL", "GET", "/console/groups/delete?id=" + b, "", "There is no relay " + b + " among yours"},
		{"edit B by form", "POST", "/console/relays/edit", b, "There is no relay " + b + " among yours"},
		{"delete B's group by form", "POST", "/console/groups/delete", b, "There is no relay " + b + " among yours"},
		{"delete B by the relay form", "POST", "/console/relays/delete", b, "There is no relay " + b + " among yours"},
		{"delete a relay as a group", "POST", "/console/groups/delete", "1", "is a relay, not a group"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := r.do(c.method, c.path, cookie, nil)
			if c.method == "POST" {
				w = r.post(c.path, cookie, csrf, "id", c.id, "contact", "intruder@a.example", "registered", "1")
			}
			if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), c.want) {
				t.Errorf("%d, want 404 saying %q:\n%s", w.Code, c.want, w.Body)
			}
		})
	}
	if g := r.groupNamed("bgroup"); g == nil || g.Contact != "pm-b@b.example" {
		t.Errorf("group B after A's attempts: %+v", g)
	}

	body := r.do("GET", "/console/relays/delete?id=1", cookie, nil).Body.String()
	for _, want := range []string{"Delete the relay <strong>192.0.2.4</strong>?", "192.0.2.4/32", "1 pair or VERP source through it is deleted", `action="/console/relays/delete"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the confirmation page lacks %q:\n%s", want, body)
		}
	}
	if r.st.Index().Load().Entity(1) == nil {
		t.Fatal("opening the confirmation page deleted the relay")
	}
	if w := r.do("POST", "/console/relays/delete", cookie, map[string][]string{"id": {"1"}}); w.Code != http.StatusForbidden {
		t.Errorf("a delete without the CSRF token: %d, want 403", w.Code)
	}
	if w := r.post("/console/relays/delete", cookie, csrf, "id", "1"); w.Code != http.StatusSeeOther {
		t.Fatalf("deleting the relay: %d %s", w.Code, w.Body)
	}
	v = r.st.Index().Load()
	if v.Entity(1) != nil || v.EntityOf(mustAddr("192.0.2.4")) != nil || v.Counts().Pairs != 1 {
		t.Errorf("after the delete: entity %+v, %d pairs (want B's only)", v.Entity(1), v.Counts().Pairs)
	}
	if w := r.post("/console/relays/delete", cookie, csrf, "id", "1"); w.Code != http.StatusNotFound {
		t.Errorf("deleting it again: %d, want 404", w.Code)
	}
}

// TestGroups_DeleteWithinThePrefixesOnly: a postmaster whose prefixes
// hold group B deletes it with its pair through the confirmation page;
// one whose prefixes do not cannot, and a lone relay is not a group.
func TestGroups_DeleteWithinThePrefixesOnly(t *testing.T) {
	r := newRig(t)
	other, otherCSRF := r.postmaster("pm-a", "192.0.2.0/24")
	b := fmt.Sprint(r.groupNamed("bgroup").ID)
	if w := r.post("/console/groups/delete", other, otherCSRF, "id", b); w.Code != http.StatusNotFound {
		t.Errorf("another postmaster deleting group B: %d, want 404", w.Code)
	}
	cookie, csrf := r.postmaster("pm-b", "198.51.100.0/24")
	if body := r.do("GET", "/console/groups?id="+b, cookie, nil).Body.String(); !strings.Contains(body, `href="/console/groups/delete?id=`+b+`"`) {
		t.Errorf("the group form links no delete:\n%s", body)
	}
	body := r.do("GET", "/console/groups/delete?id="+b, cookie, nil).Body.String()
	for _, want := range []string{"Delete the group <strong>bgroup</strong>?", "198.51.100.0/28", "1 pair or VERP source through it is deleted"} {
		if !strings.Contains(body, want) {
			t.Errorf("the confirmation page lacks %q:\n%s", want, body)
		}
	}
	if w := r.post("/console/relays/delete", cookie, csrf, "id", b); w.Code != http.StatusNotFound ||
		!strings.Contains(w.Body.String(), "is a group, not a lone relay") {
		t.Errorf("deleting a group on the relay page: %d\n%s", w.Code, w.Body)
	}
	if w := r.post("/console/groups/delete", cookie, csrf, "id", b); w.Code != http.StatusSeeOther {
		t.Fatalf("deleting the group: %d %s", w.Code, w.Body)
	}
	v := r.st.Index().Load()
	if r.groupNamed("bgroup") != nil || v.EntityOf(mustAddr("198.51.100.1")) != nil || v.Counts().Pairs != 1 {
		t.Errorf("after the delete: group %+v, %d pairs (want A's only)", r.groupNamed("bgroup"), v.Counts().Pairs)
	}
	if w := r.do("GET", "/console/relays?done=deleted", cookie, nil); !strings.Contains(w.Body.String(), "Deleted.") {
		t.Errorf("the relays page after the delete does not say so:\n%s", w.Body)
	}
}
