package systest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// nsNode is a wlns node running inside its own namespace of a netLab.
type nsNode struct {
	*node
	lab       *netLab
	i         int // 1-based: address 10.77.0.i, namespace lab.nodes[i-1]
	args      []string
	readyFile string
}

// client reaches the nodes from the hub namespace. Its connections are
// not kept alive: a killed node must not leave a stale pooled connection.
func (l *netLab) client() *http.Client {
	return &http.Client{
		Transport: &http.Transport{DialContext: l.dial, DisableKeepAlives: true},
		Timeout:   20 * time.Second,
	}
}

// startNodeOn launches node i in its namespace on dataDir with a
// certificate for its address; node 1 bootstraps, the others join through
// node 1. It waits until the node is ready.
func (l *netLab) startNodeOn(t *testing.T, caDir string, i int, dataDir string, extra ...string) *nsNode {
	t.Helper()
	addr := nsAddr(i)
	id := fmt.Sprintf("n%d", i)
	out := filepath.Join(t.TempDir(), "tls-"+id)
	if r := runWlns(t, "ca", "issue", "--ca", caDir, "--node-id", id, "--addr", addr, "--out", out); r.code != 0 {
		t.Fatalf("wlns ca issue: exit %d: %s", r.code, r.stderr)
	}
	args := []string{"--dns", addr + ":5300", "--http", addr + ":8053", "--raft", addr + ":8300",
		"--log-level", "info", "--join-token", "join-secret-for-the-netns-test", "--promote-after", "2s",
		"--cluster-ca", filepath.Join(out, "ca.crt"),
		"--cluster-cert", filepath.Join(out, "node.crt"), "--cluster-key", filepath.Join(out, "node.key")}
	if i > 1 {
		args = append(args, "--join", nsAddr(1)+":8300")
	}
	n := &nsNode{lab: l, i: i, args: append(args, extra...)}
	n.launch(t, dataDir)
	n.waitReady(n.readyFile, 90*time.Second)
	return n
}

// launch starts the node process on dataDir without waiting.
func (n *nsNode) launch(t *testing.T, dataDir string) {
	t.Helper()
	nd, ready := launchIn(t, n.lab.nodes[n.i-1], dataDir, n.args...)
	n.node, n.readyFile = nd, ready
}

// restart starts a killed node again on its data folder and addresses.
func (n *nsNode) restart(t *testing.T) {
	t.Helper()
	n.launch(t, n.dataDir)
}

// addr is the node's API address.
func (n *nsNode) addr() string { return nsAddr(n.i) + ":8053" }

// tryAPI sends one request to the node's API from the hub namespace.
func (n *nsNode) tryAPI(method, path string, body any, hdr map[string]string) (int, []byte, error) {
	select {
	case <-n.done:
		return 0, nil, fmt.Errorf("node %d has exited", n.i)
	default:
	}
	return doAPI(n.lab.http, "http://"+n.addr(), n.token, method, path, body, hdr)
}

// query asks the node's DNS server one question over UDP from the hub, with
// one bounded attempt.
func (n *nsNode) query(qname string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	server := nsAddr(n.i) + ":5300"
	c, err := n.lab.dial(ctx, "udp", server)
	if err != nil {
		return nil, fmt.Errorf("dialling %s: %w", server, err)
	}
	defer c.Close()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(qname), qtype)
	q.RecursionDesired = false
	cl := &dns.Client{Net: "udp", Timeout: timeout}
	m, _, err := cl.ExchangeWithConn(q, &dns.Conn{Conn: c})
	if err != nil {
		return nil, fmt.Errorf("asking %s: %w", server, err)
	}
	return m, nil
}

// nsLeader polls until exactly one of nodes leads and every one of them
// names it, and returns it.
func nsLeader(t *testing.T, nodes []*nsNode, limit time.Duration) *nsNode {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var leader *nsNode
		ids := map[string]bool{}
		ok := true
		for _, n := range nodes {
			code, b, err := n.tryAPI("GET", "/v1/status", nil, nil)
			var st nodeStatus
			if err != nil || code != http.StatusOK || json.Unmarshal(b, &st) != nil {
				ok = false
				break
			}
			ids[st.LeaderID] = true
			if st.Leader {
				leader = n
			}
		}
		if ok && leader != nil && len(ids) == 1 {
			return leader
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no agreed leader among %d namespaced nodes within %v", len(nodes), limit)
	return nil
}
