package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/suggest"
)

// plantClusters registers two pools of relays that verified the same
// senders: 192.0.2.20–21 (14 shared) and 203.0.113.1–2 (12 shared), and
// returns the suggestion of the first.
func (r *rig) plantClusters() suggest.Suggestion {
	r.t.Helper()
	pools := []struct {
		tag    string
		shared int
		ips    []string
	}{{"a", 14, []string{"192.0.2.20", "192.0.2.21"}}, {"c", 12, []string{"203.0.113.1", "203.0.113.2"}}}
	for _, p := range pools {
		for _, ip := range p.ips {
			r.apply(command.EntityPut, command.EntityBody{Prefixes: []string{ip}, Contact: "pm@" + p.tag + ".example", Registered: true, PTR: "out-" + ip + ".example.net"})
			r.apply(command.PairPut, command.PairBody{Sender: "own-" + ip + "@" + p.tag + ".example", IP: ip})
		}
		for i := range p.shared {
			for _, ip := range p.ips {
				r.apply(command.PairPut, command.PairBody{Sender: fmt.Sprintf("user%d@%s.users.example", i, p.tag), IP: ip})
			}
		}
	}
	for _, s := range suggest.Find(r.st.Index().Load(), suggest.Config{}) {
		if s.Relays[0].Prefixes[0].Addr().String() == "192.0.2.20" {
			return s
		}
	}
	r.t.Fatal("the planted pool 192.0.2.20–21 is not suggested")
	return suggest.Suggestion{}
}

func TestSuggestions_OwnerSeesAndAcceptsAnotherPostmasterCannot(t *testing.T) {
	r := newRig(t)
	s := r.plantClusters()
	owner, ownerCSRF := r.postmaster("pm-a", "192.0.2.0/24")
	other, otherCSRF := r.postmaster("pm-c", "203.0.113.0/24")

	page := r.do("GET", "/console/suggestions", owner, nil).Body.String()
	for _, want := range []string{s.ID, "out-192.0.2.21.example.net", "192.0.2.20/32", "<td>14</td><td>93%</td>", `href="/console/suggestions" aria-current="page"`, `<label for="name-0">Group name</label>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the owner's suggestions page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "203.0.113.1") {
		t.Errorf("the owner's page shows the other pool:\n%s", page)
	}
	if page := r.do("GET", "/console/suggestions", other, nil).Body.String(); strings.Contains(page, "192.0.2.20") || !strings.Contains(page, "203.0.113.1") {
		t.Errorf("another postmaster's page shows the pool outside its prefixes, or not its own:\n%s", page)
	}

	refused(t, r.post("/console/suggestions/accept", other, otherCSRF, "id", s.ID, "name", "stolen"), http.StatusNotFound, "That suggestion is gone")
	refused(t, r.post("/console/suggestions/accept", owner, "", "id", s.ID, "name", "pool"), http.StatusForbidden, "This form is stale")
	w := r.post("/console/suggestions/accept", owner, ownerCSRF, "id", s.ID, "name", "Bad Name!")
	refused(t, w, http.StatusBadRequest, "Bad Name!")
	if r.groupNamed("stolen") != nil || r.groupNamed("pool") != nil {
		t.Fatal("a refused accept created a group")
	}

	w = r.post("/console/suggestions/accept", owner, ownerCSRF, "id", s.ID, "name", "pool", "contact", "pools@a.example")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/suggestions?done=grouped" {
		t.Fatalf("accepting: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	g := r.groupNamed("pool")
	if g == nil || !slices.Equal(prefixesOf(g), []string{"192.0.2.20/32", "192.0.2.21/32"}) || g.Contact != "pools@a.example" {
		t.Fatalf("the group after accepting: %+v", g)
	}
	v := r.st.Index().Load()
	for _, sender := range []string{"user0@a.users.example", "user13@a.users.example", "own-192.0.2.21@a.example"} {
		if v.Pair(g.ID, []byte(sender)) == nil {
			t.Errorf("the group lacks the pair %s", sender)
		}
	}
	if page := r.do("GET", "/console/suggestions", owner, nil).Body.String(); strings.Contains(page, s.ID) {
		t.Errorf("the accepted suggestion is still listed:\n%s", page)
	}
	refused(t, r.post("/console/suggestions/accept", owner, ownerCSRF, "id", s.ID, "name", "pool2"), http.StatusNotFound, "That suggestion is gone")
}

// TestSuggestions_StaleAcceptRefusedInThePage: a relay deleted after the
// list was drawn (the console's copy lives a minute) refuses the accept
// with the API's reason, writes nothing and draws the list afresh.
func TestSuggestions_StaleAcceptRefusedInThePage(t *testing.T) {
	r := newRig(t)
	s := r.plantClusters()
	cookie, csrf := r.signIn(adminSecret)
	if page := r.do("GET", "/console/suggestions", cookie, nil).Body.String(); !strings.Contains(page, s.ID) {
		t.Fatalf("the admin's page lacks suggestion %s:\n%s", s.ID, page)
	}
	r.apply(command.EntityDelete, command.EntityBody{ID: s.Relays[1].ID})
	w := r.post("/console/suggestions/accept", cookie, csrf, "id", s.ID, "name", "pool")
	refused(t, w, http.StatusConflict, "is stale")
	if strings.Contains(w.Body.String(), `name="id" value="`+s.ID+`"`) {
		t.Errorf("the refused page still offers the stale suggestion:\n%s", w.Body)
	}
	if r.groupNamed("pool") != nil {
		t.Error("a stale accept created the group")
	}
}

// TestSuggestions_DismissHidesItForEveryone: the owner dismisses its
// pool's suggestion; it leaves every session's list (an admin's too), an
// accept of it is refused, and another postmaster cannot dismiss it.
func TestSuggestions_DismissHidesItForEveryone(t *testing.T) {
	r := newRig(t)
	s := r.plantClusters()
	owner, ownerCSRF := r.postmaster("pm-a", "192.0.2.0/24")
	other, otherCSRF := r.postmaster("pm-c", "203.0.113.0/24")
	admin, _ := r.signIn(adminSecret)
	if page := r.do("GET", "/console/suggestions", owner, nil).Body.String(); !strings.Contains(page, `<button type="submit" class="secondary" aria-describedby="dismiss-help-0">Dismiss</button>`) ||
		!strings.Contains(page, "(28 or more)") {
		t.Fatalf("the owner's page lacks the dismiss button:\n%s", page)
	}

	refused(t, r.post("/console/suggestions/dismiss", other, otherCSRF, "id", s.ID), http.StatusNotFound, "That suggestion is gone")
	refused(t, r.post("/console/suggestions/dismiss", owner, "", "id", s.ID), http.StatusForbidden, "This form is stale")
	if page := r.do("GET", "/console/suggestions", admin, nil).Body.String(); !strings.Contains(page, s.ID) {
		t.Fatal("a refused dismissal hid the suggestion")
	}

	w := r.post("/console/suggestions/dismiss", owner, ownerCSRF, "id", s.ID)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/suggestions?done=dismissed" {
		t.Fatalf("dismissing: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if page := r.do("GET", "/console/suggestions?done=dismissed", owner, nil).Body.String(); strings.Contains(page, s.ID) || !strings.Contains(page, "Dismissed: the suggestion is not shown again") {
		t.Errorf("the owner's page after dismissing:\n%s", page)
	}
	if page := r.do("GET", "/console/suggestions", admin, nil).Body.String(); strings.Contains(page, s.ID) || !strings.Contains(page, "203.0.113.1") {
		t.Errorf("the admin's page after the dismissal should list only the other pool:\n%s", page)
	}
	refused(t, r.post("/console/suggestions/accept", owner, ownerCSRF, "id", s.ID, "name", "pool"), http.StatusNotFound, "That suggestion is gone")
	ds := r.st.Dismissals()
	if len(ds) != 1 || ds[0].By != "console:pm-a" || ds[0].Shared != 14 {
		t.Fatalf("stored dismissals %+v", ds)
	}
}
