package systest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/miekg/dns"
)

// The TSIG key the transfer tests share with their secondaries.
const (
	xfrKeyName   = "xfr-key"
	xfrKeySecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ=="
)

// secondaryConf is what a secondary's configuration is made from: the
// configs are the ones docs/operations.md ("Secondaries") shows.
type secondaryConf struct {
	Dir, Zone, Key, Secret string
	Port                   int    // the secondary's DNS port
	Primary                string // wlns --xfr address, ip
	PrimaryPort            int
}

var secondaryConfigs = map[string]string{
	"nsd": `server:
  ip-address: 127.0.0.1@{{.Port}}
  port: {{.Port}}
  username: ""
  chroot: ""
  zonesdir: "{{.Dir}}"
  database: ""
  pidfile: "{{.Dir}}/nsd.pid"
  xfrdfile: "{{.Dir}}/xfrd.state"
  zonelistfile: "{{.Dir}}/zone.list"
  logfile: "{{.Dir}}/nsd.log"
  verbosity: 2
remote-control:
  control-enable: no
key:
  name: {{.Key}}
  algorithm: hmac-sha256
  secret: "{{.Secret}}"
zone:
  name: {{.Zone}}
  zonefile: "{{.Zone}}.zone"
  request-xfr: {{.Primary}}@{{.PrimaryPort}} {{.Key}}
  allow-notify: {{.Primary}} {{.Key}}
`,
	"knotd": `server:
  listen: 127.0.0.1@{{.Port}}
  rundir: "{{.Dir}}"
log:
  - target: stderr
    any: info
database:
  storage: "{{.Dir}}"
control:
  listen: "{{.Dir}}/knot.sock"
key:
  - id: {{.Key}}
    algorithm: hmac-sha256
    secret: {{.Secret}}
remote:
  - id: wlns
    address: {{.Primary}}@{{.PrimaryPort}}
    key: {{.Key}}
acl:
  - id: wlns-notify
    address: {{.Primary}}
    key: {{.Key}}
    action: notify
template:
  - id: default
    storage: "{{.Dir}}"
zone:
  - domain: {{.Zone}}
    master: wlns
    acl: wlns-notify
`,
	"named": `options {
  directory "{{.Dir}}";
  pid-file "{{.Dir}}/named.pid";
  session-keyfile "{{.Dir}}/session.key";
  listen-on port {{.Port}} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
};
controls { };
key "{{.Key}}" { algorithm hmac-sha256; secret "{{.Secret}}"; };
zone "{{.Zone}}" {
  type secondary;
  primaries { {{.Primary}} port {{.PrimaryPort}} key "{{.Key}}"; };
  file "{{.Zone}}.zone";
};
`,
}

// secondary is a running NSD, Knot or BIND serving one zone from wlns.
type secondary struct {
	t    *testing.T
	name string
	conf secondaryConf
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startSecondary writes the config for server (nsd, knotd or named) in
// dir and starts it in the foreground.
func startSecondary(t *testing.T, server string, c secondaryConf) *secondary {
	t.Helper()
	bin := needTool(t, server, map[string]string{"nsd": "nsd", "knotd": "knot", "named": "bind9"}[server])
	if err := os.MkdirAll(c.Dir, 0o777); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := template.Must(template.New(server).Parse(secondaryConfigs[server])).Execute(&b, c); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(c.Dir, server+".conf")
	if err := os.WriteFile(conf, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &secondary{t: t, name: server, conf: c, log: filepath.Join(c.Dir, server+".out"), done: make(chan struct{})}
	var args []string
	switch server {
	case "nsd":
		args = []string{"-d", "-c", conf}
	case "knotd":
		args = []string{"-c", conf}
	case "named":
		args = []string{"-g", "-c", conf}
	}
	out, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", server, err)
	}
	go func() { _ = s.cmd.Wait(); out.Close(); close(s.done) }()
	t.Cleanup(s.stop)
	return s
}

func (s *secondary) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *secondary) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.conf.Port) }

func (s *secondary) logTail() string {
	var b strings.Builder
	for _, f := range []string{s.log, filepath.Join(s.conf.Dir, "nsd.log")} {
		if data, err := os.ReadFile(f); err == nil {
			if len(data) > 4000 {
				data = data[len(data)-4000:]
			}
			b.Write(data)
		}
	}
	return b.String()
}

// waitAnswer polls the secondary until name answers A 127.0.2.<code> (0:
// until it is NXDOMAIN) and returns how long that took.
func (s *secondary) waitAnswer(name string, code byte, limit time.Duration) time.Duration {
	s.t.Helper()
	start := time.Now()
	for {
		m, err := exchange("udp", s.addr(), name, dns.TypeA)
		if err == nil && answerCode(m) == code && (code != 0 || m.Rcode == dns.RcodeNameError) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			s.t.Fatalf("%s: %s does not answer 127.0.2.%d within %v (last %v %v); log:\n%s", s.name, name, code, limit, m, err, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serial is the SOA serial the secondary serves.
func (s *secondary) serial() uint32 {
	s.t.Helper()
	m, err := exchange("udp", s.addr(), s.conf.Zone, dns.TypeSOA)
	if err != nil || len(m.Answer) == 0 {
		s.t.Fatalf("%s: SOA of %s: %v %v", s.name, s.conf.Zone, m, err)
	}
	return m.Answer[0].(*dns.SOA).Serial
}

func answerCode(m *dns.Msg) byte {
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.To4()[3]
		}
	}
	return 0
}

// metricOr0 reads one series from n's /metrics; a labelled counter that
// has not counted yet is 0.
func metricOr0(t *testing.T, n *node, series string) float64 {
	t.Helper()
	_, b := n.api("GET", "/metrics", nil)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
