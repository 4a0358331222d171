package systest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// apiNode is a node whose API the cluster checks can reach: a loopback node,
// or one inside a network namespace.
type apiNode interface {
	// tryAPI sends one request with the admin token and extra headers.
	tryAPI(method, path string, body any, hdr map[string]string) (int, []byte, error)
	// addr names the node in failure messages.
	addr() string
}

// addr is the node's API address.
func (n *node) addr() string { return n.ready.HTTP }

// tryAPI is api without failing the test, over the test's own network.
func (n *node) tryAPI(method, path string, body any, hdr map[string]string) (int, []byte, error) {
	select {
	case <-n.done:
		return 0, nil, fmt.Errorf("node %s has exited", n.ready.HTTP)
	default:
	}
	return doAPI(http.DefaultClient, "http://"+n.ready.HTTP, n.token, method, path, body, hdr)
}

// doAPI sends one bounded API request through c.
func doAPI(c *http.Client, base, token, method, path string, body any, hdr map[string]string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("encoding %s %s body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("reading %s %s answer: %w", method, path, err)
	}
	return resp.StatusCode, out, nil
}

// apiNodes converts a list of concrete nodes.
func apiNodes[T apiNode](ns []T) []apiNode {
	out := make([]apiNode, len(ns))
	for i, n := range ns {
		out[i] = n
	}
	return out
}

// mustAPI is tryAPI that fails the test on a transport error or an answer
// other than 200.
func mustAPI(t *testing.T, n apiNode, method, path string) []byte {
	t.Helper()
	code, b, err := n.tryAPI(method, path, nil, nil)
	if err != nil {
		t.Fatalf("%s: %v", n.addr(), err)
	}
	if code != http.StatusOK {
		t.Fatalf("%s %s on %s: %d %s", method, path, n.addr(), code, b)
	}
	return b
}

// allPairs reads every pair n holds through its API, page by page, as the
// raw JSON of each pair in the API's stable order.
func allPairs(t *testing.T, n apiNode) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	after := ""
	for {
		path := "/v1/pairs?limit=1000"
		if after != "" {
			path += "&after=" + url.QueryEscape(after)
		}
		var page struct {
			Pairs []json.RawMessage `json:"pairs"`
			Next  string            `json:"next"`
		}
		if err := json.Unmarshal(mustAPI(t, n, "GET", path), &page); err != nil {
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
func assertSamePairs(t *testing.T, nodes []apiNode) []json.RawMessage {
	t.Helper()
	want := allPairs(t, nodes[0])
	for _, n := range nodes[1:] {
		got := allPairs(t, n)
		if len(got) != len(want) {
			t.Errorf("%s lists %d pairs, %s lists %d", n.addr(), len(got), nodes[0].addr(), len(want))
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("pair %d differs: %s has %s, %s has %s", i, n.addr(), got[i], nodes[0].addr(), want[i])
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

// serial reads the Raft index of the last command n applied, or -1 when n
// does not answer.
func serial(n apiNode) int64 {
	code, b, err := n.tryAPI("GET", "/v1/status", nil, nil)
	var st struct {
		Serial int64 `json:"serial"`
	}
	if err != nil || code != http.StatusOK || json.Unmarshal(b, &st) != nil {
		return -1
	}
	return st.Serial
}

// waitSameSerial polls until every node has applied the same last command,
// the sign that they hold the same data, and returns that index.
func waitSameSerial(t *testing.T, nodes []apiNode, limit time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(limit)
	var got []int64
	for {
		got = got[:0]
		for _, n := range nodes {
			got = append(got, serial(n))
		}
		same := got[0] > 0
		for _, s := range got {
			same = same && s == got[0]
		}
		if same {
			return got[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes did not converge within %v: applied indexes %v", limit, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReachableVoters polls GET /v1/cluster on n until want members are reachable
// voters (joined nodes start as non-voters and are promoted after
// --promote-after), failing after limit.
func waitReachableVoters(t *testing.T, n apiNode, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last string
	for {
		code, b, err := n.tryAPI("GET", "/v1/cluster", nil, nil)
		var st struct {
			Members []struct {
				ID        string `json:"id"`
				Voter     bool   `json:"voter"`
				Reachable bool   `json:"reachable"`
			} `json:"members"`
		}
		if err == nil && code == http.StatusOK && json.Unmarshal(b, &st) == nil {
			voters := 0
			for _, m := range st.Members {
				if m.Voter && m.Reachable {
					voters++
				}
			}
			if voters == want {
				return
			}
			last = string(b)
		} else {
			last = fmt.Sprintf("%d %s %v", code, b, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not %d reachable voters within %v: %s", n.addr(), want, limit, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
