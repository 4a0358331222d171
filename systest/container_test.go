package systest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The container image, without a container engine (none runs on CI): the
// tests read the Dockerfile's final stage and run the freshly built binary
// the way a container of the image runs it — in its own network namespace,
// with a private /var/lib holding the data volume, as the image's user, with
// exactly the image's environment and command. The documented `docker run`
// and `docker exec` lines map onto this one to one: -e adds to the
// environment, -v bind-mounts a folder, -p is the hub reaching the
// namespace's address.

// imageApex is the zone apex of a node started with the image's defaults
// (the image sets no WLNS_APEX, so serve's default applies).
const imageApex = "wl.example.org"

// image is what the Dockerfile's final stage gives a container.
type image struct {
	env  []string // ENV, as KEY=VALUE in order
	user string   // USER, uid:gid
	cmd  []string // ENTRYPOINT followed by CMD
}

// needImage stops the test unless it can run containers the harness's
// way (root, dig, setpriv) and returns the image.
func needImage(t *testing.T) image {
	t.Helper()
	needRoot(t)
	needTool(t, "dig", "bind9-dnsutils")
	needTool(t, "setpriv", "util-linux")
	return readImage(t)
}

// readImage parses the ENV, USER, ENTRYPOINT and CMD instructions of the
// Dockerfile's last stage.
func readImage(t *testing.T) image {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var img image
	var entry, cmd []string
	for _, ins := range dockerInstructions(t, f) {
		word, rest, _ := strings.Cut(ins, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(word) {
		case "FROM":
			img, entry, cmd = image{}, nil, nil
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				if !strings.Contains(kv, "=") {
					t.Fatalf("Dockerfile ENV %q: only the KEY=VALUE form is understood here", rest)
				}
				img.env = append(img.env, kv)
			}
		case "USER":
			img.user = rest
		case "ENTRYPOINT":
			entry = execForm(t, rest)
		case "CMD":
			cmd = execForm(t, rest)
		}
	}
	img.cmd = append(entry, cmd...)
	if img.user == "" || len(img.cmd) == 0 || len(img.env) == 0 {
		t.Fatalf("Dockerfile's last stage lacks USER, ENV or ENTRYPOINT/CMD: %+v", img)
	}
	return img
}

// dockerInstructions returns the instructions of a Dockerfile with their
// continuation lines joined and comments dropped.
func dockerInstructions(t *testing.T, f *os.File) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" && cur.Len() == 0 {
			continue
		}
		more := strings.HasSuffix(line, "\\")
		cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
		if !more {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// execForm decodes the JSON array form of ENTRYPOINT and CMD.
func execForm(t *testing.T, s string) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("Dockerfile %q: want the exec (JSON array) form: %v", s, err)
	}
	return v
}

// container is one "container" of the image inside a namespace of a netLab.
type container struct {
	img    image
	ns     string
	env    []string          // -e: added to the image's environment
	mounts map[string]string // -v: container path (under /var/lib) -> host folder
}

// newContainer prepares a container in node namespace i of lab whose data
// volume is a new folder owned by the image's user.
func newContainer(t *testing.T, img image, lab *netLab, i int, env ...string) *container {
	t.Helper()
	data := filepath.Join(t.TempDir(), "volume")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &container{img: img, ns: lab.nodes[i-1], env: env, mounts: map[string]string{}}
	c.mount(t, c.imageEnv("WLNS_DATA"), data)
	return c
}

// mount gives the container the host folder dir at path, owned by the
// image's user as a volume would be.
func (c *container) mount(t *testing.T, path, dir string) {
	t.Helper()
	if !strings.HasPrefix(path, "/var/lib/") {
		t.Fatalf("container path %s: the harness mounts under /var/lib only", path)
	}
	if out, err := exec.Command("chown", "-R", c.img.user, dir).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v: %s", dir, err, out)
	}
	c.mounts[path] = dir
}

// imageEnv is the value the image's ENV gives key.
func (c *container) imageEnv(key string) string {
	for _, kv := range c.img.env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	return ""
}

// command is `docker run` (args nil: the image's CMD) or, while one runs,
// `docker exec` of the binary with args. The namespace's /var/lib is a
// private tmpfs holding the binary and the mounted folders; nothing of it
// reaches the host.
func (c *container) command(ctx context.Context, args ...string) *exec.Cmd {
	argv := c.img.cmd
	if args != nil {
		argv = append([]string{c.img.cmd[0]}, args...)
	}
	bin := "/var/lib/.image" + c.img.cmd[0]
	var sc strings.Builder
	sc.WriteString("mount -t tmpfs -o mode=755 image /var/lib\n")
	fmt.Fprintf(&sc, "mkdir -p %s && cp '%s' %s && chmod 755 %[3]s\n", filepath.Dir(bin), wlnsBin, bin)
	for path, dir := range c.mounts {
		fmt.Fprintf(&sc, "mkdir -p %s && mount --bind '%s' %[1]s\n", path, dir)
	}
	uid, gid, _ := strings.Cut(c.img.user, ":")
	fmt.Fprintf(&sc, "cd / && exec setpriv --reuid %s --regid %s --clear-groups --pdeathsig KILL env -i"+
		" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", uid, gid)
	for _, kv := range append(append([]string{}, c.img.env...), c.env...) {
		fmt.Fprintf(&sc, " '%s'", kv)
	}
	fmt.Fprintf(&sc, " %s", bin)
	for _, a := range argv[1:] {
		fmt.Fprintf(&sc, " '%s'", a)
	}
	return exec.CommandContext(ctx, "ip", "netns", "exec", c.ns, "unshare", "--mount", "--propagation", "private", "sh", "-ec", sc.String())
}

// run starts the container's server and returns it as a node (its log and
// process; no ready file: the image does not set one).
func (c *container) run(t *testing.T) *node {
	t.Helper()
	n := &node{t: t, dataDir: c.mounts[c.imageEnv("WLNS_DATA")],
		logPath: filepath.Join(t.TempDir(), "wlns.log"), done: make(chan struct{})}
	n.start(c.command(context.Background()))
	return n
}

// exec runs the binary inside the running container, as `docker exec`.
func (c *container) exec(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return runCmd(t, c.command(ctx, args...))
}

// digFromHub asks a node's published DNS port from the hub, as a resolver
// outside the container would, and returns dig's short answer.
func (l *netLab) digFromHub(i int, name, qtype string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "ip", "netns", "exec", l.hub, "dig", "+short", "+time=1", "+tries=1", "+norecurse",
		"@"+nsAddr(i), "-p", "5300", name, qtype).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// waitDNS polls until node i answers name with want, or fails the test with
// the container's log.
func (l *netLab) waitDNS(t *testing.T, n *node, i int, name, want string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var got string
	for time.Now().Before(deadline) {
		if got = l.digFromHub(i, name, "A"); got == want {
			return
		}
		select {
		case <-n.done:
			t.Fatalf("the container's server exited (%v); log:\n%s", n.waitErr, n.logTail())
		case <-time.After(250 * time.Millisecond):
		}
	}
	t.Fatalf("dig @%s -p 5300 %s: %q after %v, want %q; log:\n%s", nsAddr(i), name, got, limit, want, n.logTail())
}

// mustExec is exec that fails the test unless the command exits 0.
func (c *container) mustExec(t *testing.T, args ...string) string {
	t.Helper()
	r := c.exec(t, args...)
	if r.code != 0 {
		t.Fatalf("docker exec wlns %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// davePair is the query name of dave@umkc.edu sending through 192.0.2.4.
const davePair = "dave.umkc.edu.4.2.0.192.sender." + imageApex

// testEntry is the RFC 5782 test entry every node answers.
const testEntry = "2.0.0.127.relay." + imageApex

// TestContainer_SingleNodeStartsWithTheImageDefaults runs the image as the
// Dockerfile's first `docker run` line does: no -e at all. The node must
// answer DNS, and the CLI inside the container must find the admin token
// with no flag (`docker exec wlns /wlns pair add ...`).
func TestContainer_SingleNodeStartsWithTheImageDefaults(t *testing.T) {
	img := needImage(t)
	lab := newNetLab(t, 1, 0, 0, 0)
	c := newContainer(t, img, lab, 1)
	n := c.run(t)
	lab.waitDNS(t, n, 1, testEntry, "127.0.2.1", 60*time.Second)

	c.mustExec(t, "pair", "add", "dave@umkc.edu", "192.0.2.4")
	if r := c.exec(t, "check", "dave@umkc.edu", "192.0.2.4"); r.code != 0 {
		t.Errorf("docker exec wlns check: exit %d, want 0 (listed): %s%s", r.code, r.stdout, r.stderr)
	}
	if got := lab.digFromHub(1, davePair, "A"); got != "127.0.2.2" {
		t.Errorf("the pair added in the container: dig from outside = %q, want 127.0.2.2 (address verified)", got)
	}
}

// TestContainer_ClusterRunAsDocumented runs two containers of the image
// with the Dockerfile's cluster `docker run` settings: the inter-node port
// on every address, the advertised address, the cluster files in a volume;
// the second joins the first. A write through the second's CLI is then
// answered by the first.
func TestContainer_ClusterRunAsDocumented(t *testing.T) {
	img := needImage(t)
	lab := newNetLab(t, 2, 0, 0, 0)
	caDir := filepath.Join(t.TempDir(), "ca")
	if r := runWlns(t, "ca", "init", "--dir", caDir); r.code != 0 {
		t.Fatalf("wlns ca init: exit %d: %s", r.code, r.stderr)
	}
	var nodes []*node
	var cs []*container
	for i := 1; i <= 2; i++ {
		tlsDir := filepath.Join(t.TempDir(), "tls")
		if r := runWlns(t, "ca", "issue", "--ca", caDir, "--node-id", fmt.Sprintf("mirror%d", i),
			"--addr", nsAddr(i), "--out", tlsDir); r.code != 0 {
			t.Fatalf("wlns ca issue: exit %d: %s", r.code, r.stderr)
		}
		env := []string{"WLNS_RAFT=0.0.0.0:8300", "WLNS_ADVERTISE=" + nsAddr(i) + ":8300",
			"WLNS_CLUSTER_CA=/var/lib/tls/ca.crt", "WLNS_CLUSTER_CERT=/var/lib/tls/node.crt",
			"WLNS_CLUSTER_KEY=/var/lib/tls/node.key", "WLNS_JOIN_TOKEN=container-test-join-secret"}
		if i > 1 {
			env = append(env, "WLNS_JOIN="+nsAddr(1)+":8300")
		}
		c := newContainer(t, img, lab, i, env...)
		c.mount(t, "/var/lib/tls", tlsDir)
		n := c.run(t)
		lab.waitDNS(t, n, i, testEntry, "127.0.2.1", 90*time.Second)
		nodes, cs = append(nodes, n), append(cs, c)
	}
	cs[1].mustExec(t, "pair", "add", "dave@umkc.edu", "192.0.2.4")
	lab.waitDNS(t, nodes[0], 1, davePair, "127.0.2.2", 30*time.Second)
}
