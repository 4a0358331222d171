package admin

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wlns/wlns/record"
)

func TestRelays_RegisterShowUpdateDelete(t *testing.T) {
	env := newTestEnv(t)
	var pair record.Pair
	env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"a@b.example","ip":"192.0.2.4"}`).json(t, &pair)

	// Registering the address a pair already made registers that entity.
	var e record.Entity
	env.must(http.StatusOK, "POST", "/v1/relays", adminSecret,
		`{"ip":"192.0.2.4","contact":"Postmaster@B.example","ptr":"mx.b.example."}`).json(t, &e)
	if e.ID != pair.Entity || !e.Registered || e.Contact != "postmaster@b.example" || e.PTR != "mx.b.example" {
		t.Fatalf("registered %+v, pair entity %d", &e, pair.Entity)
	}
	var fresh record.Entity
	env.must(http.StatusCreated, "POST", "/v1/relays", postmasterSecret, `{"ip":"192.0.2.5","contact":"pm@b.example"}`).json(t, &fresh)

	for _, ref := range []string{"192.0.2.4", fmt.Sprint(e.ID)} {
		var got record.Entity
		env.must(http.StatusOK, "GET", "/v1/relays/"+ref, readSecret, "").json(t, &got)
		if got.ID != e.ID {
			t.Errorf("GET /v1/relays/%s: entity %d, want %d", ref, got.ID, e.ID)
		}
	}
	var list EntityList
	env.must(http.StatusOK, "GET", "/v1/relays?registered=true", readSecret, "").json(t, &list)
	if len(list.Entities) != 2 {
		t.Errorf("registered relays: %+v", list.Entities)
	}

	var upd record.Entity
	env.must(http.StatusOK, "PUT", fmt.Sprintf("/v1/relays/%d", e.ID), adminSecret, `{"registered":false}`).json(t, &upd)
	if upd.Registered || upd.Contact != "" {
		t.Errorf("after PUT registered=false: %+v", &upd)
	}
	env.must(http.StatusBadRequest, "PUT", fmt.Sprintf("/v1/relays/%d", e.ID), adminSecret, `{"ptr":"x.example"}`)

	env.must(http.StatusForbidden, "DELETE", fmt.Sprintf("/v1/relays/%d", e.ID), readSecret, "")
	env.must(http.StatusNoContent, "DELETE", fmt.Sprintf("/v1/relays/%d", e.ID), adminSecret, "")
	env.must(http.StatusNotFound, "GET", "/v1/relays/192.0.2.4", readSecret, "")
	if n := env.api.store.Index().Load().Counts().Pairs; n != 0 {
		t.Errorf("deleting the relay left %d pairs", n)
	}
}

func TestRelays_BadRequests(t *testing.T) {
	env := newTestEnv(t)
	env.must(http.StatusCreated, "POST", "/v1/groups", adminSecret, `{"name":"mx","members":["198.51.100.1","198.51.100.2","203.0.113.0/24"]}`)
	tests := []struct {
		name, body string
		want       int
		msg        string
	}{
		{"no contact", `{"ip":"192.0.2.4"}`, http.StatusBadRequest, "contact is required"},
		{"bad contact", `{"ip":"192.0.2.4","contact":"nobody"}`, http.StatusBadRequest, `"nobody"`},
		{"bad ptr", `{"ip":"192.0.2.4","contact":"a@b.example","ptr":"a..b"}`, http.StatusBadRequest, `"a..b"`},
		{"bad ip", `{"ip":"mx.example","contact":"a@b.example"}`, http.StatusBadRequest, `"mx.example"`},
		{"group member", `{"ip":"198.51.100.2","contact":"a@b.example"}`, http.StatusConflict, `group "mx"`},
		{"inside a group prefix", `{"ip":"203.0.113.9","contact":"a@b.example"}`, http.StatusConflict, `group "mx"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do("POST", "/v1/relays", adminSecret, tt.body)
			if r.status != tt.want || !strings.Contains(r.errorMsg(t), tt.msg) {
				t.Fatalf("status %d (want %d), error %q (want %q)", r.status, tt.want, r.errorMsg(t), tt.msg)
			}
		})
	}
	env.must(http.StatusNotFound, "GET", "/v1/relays/198.51.100.1", readSecret, "") // a group, not a relay
	env.must(http.StatusBadRequest, "GET", "/v1/relays/nonsense", readSecret, "")
}

func TestGroups_Lifecycle(t *testing.T) {
	env := newTestEnv(t)
	var g record.Entity
	env.must(http.StatusCreated, "POST", "/v1/groups", adminSecret,
		`{"name":"UMKC-mx","members":["192.0.2.0/28","2001:db8::/64","192.0.2.0/28"],"contact":"pm@umkc.edu","registered":true}`).json(t, &g)
	if g.Name != "umkc-mx" || !g.Group || len(g.Prefixes) != 2 || !g.Registered {
		t.Fatalf("created %+v", &g)
	}
	var byName record.Entity
	env.must(http.StatusOK, "GET", "/v1/groups/umkc-mx", readSecret, "").json(t, &byName)
	if byName.ID != g.ID {
		t.Fatalf("by name: %+v", &byName)
	}
	var pair record.Pair
	env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"dave@umkc.edu","ip":"2001:db8::9"}`).json(t, &pair)
	if pair.Entity != g.ID {
		t.Fatalf("pair through a member went to entity %d, want the group %d", pair.Entity, g.ID)
	}

	r := env.must(http.StatusConflict, "POST", "/v1/groups", adminSecret, `{"name":"umkc-mx","members":["203.0.113.0/24"]}`)
	if !strings.Contains(r.errorMsg(t), "umkc-mx") {
		t.Errorf("duplicate name error %q", r.errorMsg(t))
	}
	env.must(http.StatusConflict, "POST", "/v1/groups", adminSecret, `{"name":"other","members":["192.0.2.0/28"]}`)

	var after record.Entity
	env.must(http.StatusOK, "POST", fmt.Sprintf("/v1/groups/%d/members", g.ID), adminSecret, `{"prefixes":["192.0.2.64/27"]}`).json(t, &after)
	if len(after.Prefixes) != 3 {
		t.Fatalf("after add-member: %+v", after.Prefixes)
	}
	env.must(http.StatusOK, "DELETE", "/v1/groups/umkc-mx/members", adminSecret, `{"prefixes":["2001:db8::/64"]}`).json(t, &after)
	if len(after.Prefixes) != 2 {
		t.Fatalf("after remove-member: %+v", after.Prefixes)
	}
	env.must(http.StatusOK, "PUT", "/v1/groups/umkc-mx", adminSecret,
		`{"name":"umkc","members":["192.0.2.0/27"]}`).json(t, &after)
	if after.ID != g.ID || after.Name != "umkc" || after.Registered {
		t.Fatalf("after PUT: %+v", &after)
	}
	var list EntityList
	env.must(http.StatusOK, "GET", "/v1/groups", readSecret, "").json(t, &list)
	if len(list.Entities) != 1 {
		t.Fatalf("groups: %+v", list.Entities)
	}
	env.must(http.StatusNoContent, "DELETE", "/v1/groups/umkc", adminSecret, "")
	env.must(http.StatusNotFound, "GET", "/v1/groups/umkc", readSecret, "")
}

func TestGroups_BadRequests(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		name, body string
		want       int
		msg        string
	}{
		{"numeric name", `{"name":"123","members":["192.0.2.0/28"]}`, http.StatusBadRequest, "invalid group name"},
		{"spaces in name", `{"name":"a b","members":["192.0.2.0/28"]}`, http.StatusBadRequest, "invalid group name"},
		{"no members", `{"name":"g"}`, http.StatusBadRequest, "at least one member"},
		{"bad member", `{"name":"g","members":["192.0.2.0/33"]}`, http.StatusBadRequest, `"192.0.2.0/33"`},
		{"registered without contact", `{"name":"g","members":["192.0.2.0/28"],"registered":true}`, http.StatusBadRequest, "contact"},
		{"CR LF in name", `{"name":"mx\r\nX-Injected: yes","members":["192.0.2.0/28"]}`, http.StatusBadRequest, "invalid group name"},
		{"angle brackets in name", `{"name":"<script>mx","members":["192.0.2.0/28"]}`, http.StatusBadRequest, "invalid group name"},
		{"control character in name", `{"name":"mx\u0001","members":["192.0.2.0/28"]}`, http.StatusBadRequest, "invalid group name"},
		{"DEL in name", `{"name":"mx\u007f","members":["192.0.2.0/28"]}`, http.StatusBadRequest, "invalid group name"},
		{"bidi override in name", `{"name":"mx\u202eexe","members":["192.0.2.0/28"]}`, http.StatusBadRequest, "invalid group name"},
		{"invalid UTF-8 in name", "{\"name\":\"mx\xff\",\"members\":[\"192.0.2.0/28\"]}", http.StatusBadRequest, `not valid UTF-8 at byte 11, after "{\"name\":\"mx"`},
		{"name over the limit", `{"name":"` + strings.Repeat("a", MaxGroupName+1) + `","members":["192.0.2.0/28"]}`, http.StatusBadRequest, "invalid group name"},
		{"CR LF in contact", `{"name":"g","members":["192.0.2.0/28"],"registered":true,"contact":"a@b.example\r\nX: y"}`, http.StatusBadRequest, "invalid contact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do("POST", "/v1/groups", adminSecret, tt.body)
			if r.status != tt.want || !strings.Contains(r.errorMsg(t), tt.msg) {
				t.Fatalf("status %d (want %d), error %q (want %q)", r.status, tt.want, r.errorMsg(t), tt.msg)
			}
		})
	}
	var list EntityList
	env.must(http.StatusOK, "GET", "/v1/groups", readSecret, "").json(t, &list)
	if len(list.Entities) != 0 {
		t.Fatalf("refused requests stored groups: %+v", list.Entities)
	}
	env.must(http.StatusCreated, "POST", "/v1/groups", adminSecret, `{"name":"good","members":["192.0.2.0/28"]}`)
	env.must(http.StatusBadRequest, "PUT", "/v1/groups/good", adminSecret, `{"name":"go\nod","members":["192.0.2.0/28"]}`)
	var g record.Entity
	env.must(http.StatusOK, "GET", "/v1/groups/good", readSecret, "").json(t, &g)
	if g.Name != "good" {
		t.Fatalf("a refused rename changed the group: %+v", &g)
	}
	env.must(http.StatusNotFound, "POST", "/v1/groups/nope/members", adminSecret, `{"prefixes":["192.0.2.1"]}`)
}

func TestVerp_CreateListDelete(t *testing.T) {
	env := newTestEnv(t)
	var vp record.Verp
	env.must(http.StatusCreated, "POST", "/v1/verp", adminSecret, `{"domain":"Lists.Example.org","ip":"192.0.2.10"}`).json(t, &vp)
	if vp.Domain != "lists.example.org" || vp.Entity == 0 {
		t.Fatalf("created %+v", &vp)
	}
	env.must(http.StatusOK, "POST", "/v1/verp", adminSecret, `{"domain":"lists.example.org","entity":`+fmt.Sprint(vp.Entity)+`}`)
	var list VerpList
	env.must(http.StatusOK, "GET", "/v1/verp?domain=lists.example.org", readSecret, "").json(t, &list)
	if len(list.Verp) != 1 {
		t.Fatalf("list: %+v", list)
	}
	r := env.must(http.StatusBadRequest, "POST", "/v1/verp", adminSecret, `{"domain":"bad domain","ip":"192.0.2.10"}`)
	if !strings.Contains(r.errorMsg(t), `"bad domain"`) {
		t.Errorf("error %q", r.errorMsg(t))
	}
	env.must(http.StatusNoContent, "DELETE", "/v1/verp?domain=lists.example.org&ip=192.0.2.10", adminSecret, "")
	env.must(http.StatusNotFound, "DELETE", "/v1/verp?domain=lists.example.org&ip=192.0.2.10", adminSecret, "")
}
