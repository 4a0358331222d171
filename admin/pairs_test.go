package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wlns/wlns/record"
)

func TestPairs_CreateRefreshListDelete(t *testing.T) {
	env := newTestEnv(t)
	var p record.Pair
	env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"Dave@UMKC.edu","ip":"192.0.2.4"}`).json(t, &p)
	if p.Sender != "dave@umkc.edu" || p.Entity == 0 || p.By != "admin" || p.Method != "api" || p.Created != env.now.Unix() {
		t.Fatalf("created pair %+v", &p)
	}
	env.now = env.now.Add(60e9)
	var again record.Pair
	env.must(http.StatusOK, "POST", "/v1/pairs", adminSecret, `{"sender":"dave@umkc.edu","ip":"192.0.2.4","pinned":true}`).json(t, &again)
	if again.Updated != env.now.Unix() || !again.Pinned || again.Created != p.Created {
		t.Fatalf("refreshed pair %+v, first %+v", &again, &p)
	}
	var list PairList
	env.must(http.StatusOK, "GET", "/v1/pairs?ip=192.0.2.4", readSecret, "").json(t, &list)
	if len(list.Pairs) != 1 || list.Pairs[0].Sender != "dave@umkc.edu" || list.Next != "" {
		t.Fatalf("list by ip: %+v", list)
	}
	env.must(http.StatusNoContent, "DELETE", "/v1/pairs?sender=dave@umkc.edu&ip=192.0.2.4", adminSecret, "")
	r := env.must(http.StatusNotFound, "DELETE", "/v1/pairs?sender=dave@umkc.edu&ip=192.0.2.4", adminSecret, "")
	if !strings.Contains(r.errorMsg(t), "dave@umkc.edu") {
		t.Errorf("404 message %q does not name the sender", r.errorMsg(t))
	}
	env.must(http.StatusOK, "GET", "/v1/pairs?ip=192.0.2.4", readSecret, "").json(t, &list)
	if len(list.Pairs) != 0 {
		t.Fatalf("pair still listed after delete: %+v", list)
	}
}

func TestPairs_BadRequests(t *testing.T) {
	env := newTestEnv(t)
	big := `{"sender":"` + strings.Repeat("a", 2<<20) + `"}`
	tests := []struct {
		name, body string
		want       int
		msg        string
	}{
		{"bad JSON", `{"sender":`, http.StatusBadRequest, "bad JSON"},
		{"empty body", ``, http.StatusBadRequest, "empty body"},
		{"unknown field", `{"sender":"a@b.example","ip":"192.0.2.1","colour":"red"}`, http.StatusBadRequest, `unknown field "colour"`},
		{"two objects", `{"sender":"a@b.example","ip":"192.0.2.1"}{}`, http.StatusBadRequest, "data after"},
		{"invalid sender", `{"sender":"no\u0001body@b.example","ip":"192.0.2.1"}`, http.StatusBadRequest, `control character 0x01`},
		{"invalid UTF-8 sender", "{\"sender\":\"d\xffve@b.example\",\"ip\":\"192.0.2.1\"}", http.StatusBadRequest, "not valid UTF-8 at byte 12"},
		{"invalid ip", `{"sender":"a@b.example","ip":"192.0.2.300"}`, http.StatusBadRequest, `"192.0.2.300"`},
		{"prefix is not an ip", `{"sender":"a@b.example","ip":"192.0.2.0/24"}`, http.StatusBadRequest, `"192.0.2.0/24"`},
		{"ip and entity", `{"sender":"a@b.example","ip":"192.0.2.1","entity":3}`, http.StatusBadRequest, "not both"},
		{"no relay", `{"sender":"a@b.example"}`, http.StatusBadRequest, "ip or entity is required"},
		{"unknown entity", `{"sender":"a@b.example","entity":99}`, http.StatusNotFound, "no entity 99"},
		{"too large", big, http.StatusRequestEntityTooLarge, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do("POST", "/v1/pairs", adminSecret, tt.body)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.want, r.body)
			}
			if msg := r.errorMsg(t); !strings.Contains(msg, tt.msg) {
				t.Errorf("error %q does not say %q", msg, tt.msg)
			}
		})
	}
	if n := env.api.store.Index().Load().Counts().Pairs; n != 0 {
		t.Errorf("%d pairs written by rejected requests", n)
	}
}

// listAll pages through path and returns every sender seen, in order.
func listAll(t *testing.T, env *testEnv, path string) (senders []string, pages int) {
	t.Helper()
	next := ""
	for {
		p := path
		if next != "" {
			p += "&after=" + next
		}
		var list PairList
		env.must(http.StatusOK, "GET", p, readSecret, "").json(t, &list)
		pages++
		for _, x := range list.Pairs {
			senders = append(senders, fmt.Sprintf("%d/%s", x.Entity, x.Sender))
		}
		if list.Next == "" {
			return senders, pages
		}
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		next = list.Next
	}
}

func TestPairs_ListPaginatesInStableOrder(t *testing.T) {
	env := newTestEnv(t)
	var want []string
	for i := range 25 {
		ip := []string{"192.0.2.1", "198.51.100.1"}[i%2]
		sender := fmt.Sprintf("user%02d@example.com", i)
		var p record.Pair
		env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"`+sender+`","ip":"`+ip+`"}`).json(t, &p)
		want = append(want, fmt.Sprintf("%d/%s", p.Entity, sender))
	}
	slices.Sort(want) // entity IDs are single digits here
	got, pages := listAll(t, env, "/v1/pairs?limit=10")
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("got %d pages %v, want 3 pages %v", pages, got, want)
	}
	got, _ = listAll(t, env, "/v1/pairs?ip=198.51.100.1&limit=4")
	if len(got) != 12 {
		t.Fatalf("by ip: %d pairs, want 12: %v", len(got), got)
	}
	r := env.must(http.StatusBadRequest, "GET", "/v1/pairs?after=zzzz", readSecret, "")
	if !strings.Contains(r.errorMsg(t), "cursor") {
		t.Errorf("bad cursor error %q", r.errorMsg(t))
	}
	env.must(http.StatusBadRequest, "GET", "/v1/pairs?limit=0", readSecret, "")
	env.must(http.StatusBadRequest, "GET", "/v1/pairs?limit=5000", readSecret, "")
}

func TestPairs_ListFilters(t *testing.T) {
	env := newTestEnv(t)
	for _, b := range []string{
		`{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`,
		`{"sender":"umkc.edu","ip":"192.0.2.4"}`,
		`{"sender":"eve@mail.umkc.edu","ip":"192.0.2.4"}`,
		`{"sender":"dave@umkc.edu","ip":"192.0.2.130"}`,
		`{"sender":"bob@other.example","ip":"2001:db8::1"}`,
	} {
		env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, b)
	}
	tests := []struct {
		query string
		want  int
	}{
		{"domain=UMKC.edu", 3},
		{"domain=umkc.edu&ip=192.0.2.4", 2},
		{"sender=dave@umkc.edu", 2},
		{"sender=dave@umkc.edu&ip=192.0.2.130", 1},
		{"prefix=192.0.2.0/25", 3},
		{"prefix=2001:db8::/32", 1},
		{"ip=203.0.113.1", 0},
		{"ip=192.0.2.4&prefix=192.0.2.128/25", 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var list PairList
			env.must(http.StatusOK, "GET", "/v1/pairs?"+tt.query, readSecret, "").json(t, &list)
			if len(list.Pairs) != tt.want {
				t.Errorf("%d pairs, want %d: %+v", len(list.Pairs), tt.want, list.Pairs)
			}
		})
	}
	r := env.must(http.StatusBadRequest, "GET", "/v1/pairs?ip=nope", readSecret, "")
	if !strings.Contains(r.errorMsg(t), `"nope"`) {
		t.Errorf("error %q does not name the value", r.errorMsg(t))
	}
}

func TestPairs_CommittedButNotYetAppliedHereIsASuccess(t *testing.T) {
	env := newTestEnv(t)
	env.store.behind = true
	r := env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`)
	if !strings.Contains(r.body, `"committed": true`) || !strings.Contains(r.body, "not applied it yet") {
		t.Errorf("answer %s; want it to say the write is committed but not applied on this node", r.body)
	}
	r = env.must(http.StatusCreated, "POST", "/v1/groups", adminSecret, `{"name":"lagging","members":["198.51.100.0/24"]}`)
	if !strings.Contains(r.body, `"committed": true`) {
		t.Errorf("group answer %s", r.body)
	}
}
