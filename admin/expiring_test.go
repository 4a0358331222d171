package admin

import (
	"net/http"
	"testing"
)

func TestExpiring_ListsUnpinnedRecordsDueWithinDays(t *testing.T) {
	env := newTestEnv(t)
	env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"dave@umkc.edu","ip":"192.0.2.4"}`)
	env.must(http.StatusCreated, "POST", "/v1/pairs", adminSecret, `{"sender":"keep@umkc.edu","ip":"192.0.2.4","pinned":true}`)
	env.must(http.StatusCreated, "POST", "/v1/verp", adminSecret, `{"domain":"lists.example.org","ip":"192.0.2.4"}`)
	due := func(q string) ExpiringList {
		t.Helper()
		var l ExpiringList
		env.must(http.StatusOK, "GET", "/v1/expiring?"+q, readSecret, "").json(t, &l)
		return l
	}
	if l := due("days=179"); len(l.Items) != 0 {
		t.Fatalf("due within 179 days: %+v", l)
	}
	l := due("days=181&kind=pairs")
	if len(l.Items) != 1 || l.Items[0].Key != "dave@umkc.edu" || l.Items[0].Expires != env.now.Unix()+180*86400 {
		t.Fatalf("pairs due within 181 days: %+v", l)
	}
	// All kinds, a page at a time: the pair and the VERP source, but not
	// their auto-created entity, which keeps the pinned pair.
	first := due("days=181&limit=1")
	second := due("days=181&limit=1&after=" + first.Next)
	if len(first.Items) != 1 || first.Next == "" || len(second.Items) != 1 || second.Next != "" || second.Items[0].Kind != "verp_sources" {
		t.Fatalf("pages: %+v then %+v", first, second)
	}
	// Unpinning makes the other pair due too; pinning the first takes it off.
	env.must(http.StatusOK, "POST", "/v1/pairs", adminSecret, `{"sender":"keep@umkc.edu","ip":"192.0.2.4","pinned":false}`)
	env.must(http.StatusOK, "POST", "/v1/pairs", adminSecret, `{"sender":"dave@umkc.edu","ip":"192.0.2.4","pinned":true}`)
	if l := due("days=181&kind=pairs"); len(l.Items) != 1 || l.Items[0].Key != "keep@umkc.edu" {
		t.Fatalf("after pin/unpin: %+v", l)
	}
	for _, q := range []string{"", "days=x", "days=-1", "days=3&kind=cats"} {
		env.must(http.StatusBadRequest, "GET", "/v1/expiring?"+q, readSecret, "")
	}
}
