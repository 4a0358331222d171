package admin

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// An import line with a quoted local part that unquoted would read as
// something else (a leading space, quotes inside) imports with its batch,
// as the sender the pair API stores for it: before, the API's normal
// form (" a@a.example") was not its own normal form, and the whole batch
// was refused.
func TestImport_QuotedLocalPartsImportWithTheirBatch(t *testing.T) {
	env := newTestEnv(t)
	senders := []string{`" a"@a.example`, `"\"q\""@a.example`, "b@a.example"}
	var lines []string
	for _, s := range senders {
		lines = append(lines, fmt.Sprintf(`{"kind":"pair","sender":%q,"ip":"192.0.2.1"}`, s))
	}
	var rep ImportReport
	env.must(http.StatusOK, "POST", "/v1/import", adminSecret, strings.Join(lines, "\n")).json(t, &rep)
	if rep.Applied != 3 || rep.Rejected != 0 {
		t.Fatalf("report %+v", rep)
	}
	v := env.api.store.Index().Load()
	relay := v.EntityOf(netip.MustParseAddr("192.0.2.1"))
	for _, s := range senders {
		if relay == nil || v.Pair(relay.ID, []byte(s)) == nil {
			t.Errorf("pair %s is not stored as %s", s, s)
		}
	}
	env.must(http.StatusOK, "POST", "/v1/pairs", adminSecret, `{"sender":"\" a\"@a.example","ip":"192.0.2.1"}`)
	if n := env.api.store.Index().Load().Counts().Pairs; n != 3 {
		t.Errorf("%d pairs after adding %s again through the pair API, want 3", n, senders[0])
	}
}
