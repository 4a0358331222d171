package systest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// jsonDecode decodes b into v.
func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }

// allPairs reads every pair n holds through its API, page by page, as the
// raw JSON of each pair in the API's stable order.
func allPairs(t *testing.T, n *node) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	after := ""
	for {
		path := "/v1/pairs?limit=1000"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		code, b := n.api("GET", path, nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s on %s: %d %s", path, n.ready.HTTP, code, b)
		}
		var page struct {
			Pairs []json.RawMessage `json:"pairs"`
			Next  string            `json:"next"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatalf("decoding GET %s: %v", path, err)
		}
		out = append(out, page.Pairs...)
		if page.Next == "" {
			return out
		}
		after = page.Next
	}
}

// assertSamePairs fails unless every node lists exactly the same pairs,
// byte for byte (times and who/how included), and returns that listing.
func assertSamePairs(t *testing.T, nodes []*node) []json.RawMessage {
	t.Helper()
	want := allPairs(t, nodes[0])
	for _, n := range nodes[1:] {
		got := allPairs(t, n)
		if len(got) != len(want) {
			t.Errorf("%s lists %d pairs, %s lists %d", n.ready.HTTP, len(got), nodes[0].ready.HTTP, len(want))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("pair %d differs: %s has %s, %s has %s", i, n.ready.HTTP, got[i], nodes[0].ready.HTTP, want[i])
				break
			}
		}
	}
	return want
}

// sendersOf counts the pairs of a listing by sender.
func sendersOf(t *testing.T, pairs []json.RawMessage) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, raw := range pairs {
		var p struct {
			Sender string `json:"sender"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatalf("decoding pair %s: %v", raw, err)
		}
		out[p.Sender]++
	}
	return out
}
