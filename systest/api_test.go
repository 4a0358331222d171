package systest

import (
	"bytes"
	"context"
	"encoding/json"
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
