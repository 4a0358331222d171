package systest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// api sends one JSON request to the node's admin API with the admin token
// and returns the status and body.
func (n *node) api(method, path string, body any) (int, []byte) {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			n.t.Fatalf("encoding %s %s body: %v", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.ready.HTTP+path, rd)
	if err != nil {
		n.t.Fatalf("building %s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+n.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		n.t.Fatalf("reading %s %s answer: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// mustAPI is api that fails the test on a non-2xx status.
func (n *node) mustAPI(method, path string, body any) []byte {
	n.t.Helper()
	status, out := n.api(method, path, body)
	if status/100 != 2 {
		n.t.Fatalf("%s %s: HTTP %d: %s", method, path, status, out)
	}
	return out
}

// entityID reads the "id" of an entity the API returned.
func entityID(t testing.TB, b []byte) uint64 {
	t.Helper()
	var e struct {
		ID uint64 `json:"id"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.ID == 0 {
		t.Fatalf("no entity id in %s (%v)", b, err)
	}
	return e.ID
}

// registerRelay registers a single relay address through the API.
func (n *node) registerRelay(ip string) uint64 {
	n.t.Helper()
	return entityID(n.t, n.mustAPI("POST", "/v1/relays", map[string]any{"ip": ip, "contact": "postmaster@umkc.edu"}))
}

// addVerp lists domain as a VERP source through ip, over the API.
func (n *node) addVerp(domain, ip string) {
	n.t.Helper()
	n.mustAPI("POST", "/v1/verp", map[string]any{"domain": domain, "ip": ip})
}

// removeMembers drops prefixes from a group over the API.
func (n *node) removeMembers(id uint64, prefixes ...string) {
	n.t.Helper()
	n.mustAPI("DELETE", fmt.Sprintf("/v1/groups/%d/members", id), map[string]any{"prefixes": prefixes})
}
