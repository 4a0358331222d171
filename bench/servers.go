package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wlns/wlns/bench/internal/kit"
)

// server is one DNS server under test.
type server interface {
	// name is the row label.
	name() string
	// prepare does one-time work (wlns: import the dataset).
	prepare(ctx context.Context) error
	// start launches the server for a pin mode and returns once it is
	// listening (not necessarily loaded).
	start(ctx context.Context, mode string) (*kit.Proc, error)
	// workloads are the query sets run against it.
	workloads() []workload
}

// workload is one dnsperf query file and the checks that prove a server
// answers it correctly.
type workload struct {
	zone    string // "relay" or "sender"
	queries string // dnsperf input
	listed  string // a listed name and its A code
	code    string
	unlist  string // an unlisted name
	unRcode string // NXDOMAIN, or NOERROR for NODATA
}

// relayWorkload is shared by every server.
func relayWorkload(d *dataset, zone string) workload {
	return workload{
		zone: "relay", queries: d.relayQueries,
		listed: d.listed[len(d.listed)-1].Rev() + ".relay." + zone, code: kit.RelayCode,
		unlist: d.unlisted[0].Rev() + ".relay." + zone, unRcode: "NXDOMAIN",
	}
}

// rbldnsd serves the ip4set file.
type rbldnsd struct {
	c   config
	d   *dataset
	dir string
}

func (s *rbldnsd) name() string                  { return "rbldnsd" }
func (s *rbldnsd) prepare(context.Context) error { return nil }
func (s *rbldnsd) workloads() []workload         { return []workload{relayWorkload(s.d, s.c.Zone)} }

func (s *rbldnsd) start(_ context.Context, mode string) (*kit.Proc, error) {
	return kit.StartRbldnsd(s.d.rbldnsd, s.c.Zone, filepath.Join(s.dir, "rbldnsd-"+mode+".log"), serverCPUs(mode))
}

// serverCPUs is where a server runs in mode: CPU 1 when pinned.
func serverCPUs(mode string) string {
	if mode == "pin" {
		return "1"
	}
	return ""
}

// nsd serves the zone file with RRL off and minimal responses.
type nsd struct {
	c   config
	d   *dataset
	dir string
}

func (s *nsd) name() string                  { return "nsd" }
func (s *nsd) prepare(context.Context) error { return nil }
func (s *nsd) workloads() []workload         { return []workload{relayWorkload(s.d, s.c.Zone)} }

func (s *nsd) start(_ context.Context, mode string) (*kit.Proc, error) {
	port, err := kit.FreePort()
	if err != nil {
		return nil, err
	}
	workers := 1
	if mode == "nopin" {
		workers = 2
	}
	dir := filepath.Join(s.dir, "nsd-"+mode)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating NSD dir: %w", err)
	}
	conf := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(conf, []byte(nsdConfig(dir, port, workers, s.c.Zone, s.d.nsdZone)), 0o644); err != nil {
		return nil, fmt.Errorf("writing NSD config: %w", err)
	}
	r, err := kit.Launch("nsd", []string{"nsd", "-d", "-c", conf}, nil, filepath.Join(dir, "nsd.out"), serverCPUs(mode))
	if err != nil {
		return nil, err
	}
	r.Addr = "127.0.0.1:" + port
	return r, nil
}

// nsdConfig keeps all NSD state in dir. Debian's NSD rate-limits by default
// (rrl-ratelimit 200), which would drop most of one client's queries.
func nsdConfig(dir, port string, workers int, zone, zonefile string) string {
	return fmt.Sprintf(`server:
	ip-address: 127.0.0.1@%[2]s
	port: %[2]s
	do-ip6: no
	server-count: %[3]d
	reuseport: yes
	username: ""
	chroot: ""
	zonesdir: %[1]q
	database: ""
	zonelistfile: "%[1]s/zone.list"
	xfrdfile: "%[1]s/xfrd.state"
	pidfile: "%[1]s/nsd.pid"
	logfile: "%[1]s/nsd.log"
	verbosity: 0
	hide-version: yes
	minimal-responses: yes
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	zonefiles-write: 0
remote-control:
	control-enable: no
zone:
	name: "relay.%[4]s"
	zonefile: %[5]q
`, dir, port, workers, zone, zonefile)
}
