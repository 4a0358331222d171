package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/wlns/wlns/raftstore"
	"github.com/wlns/wlns/zone"
)

// defaultShutdownTimeout bounds a graceful stop, whose last step writes a
// snapshot of what the node applied since its last one, so that the next
// start serves everything at once. A snapshot writes the whole state: at
// 10M pairs and 1M relays (837 MB) it took 8.6–10.9 s on a loaded 2-core
// machine, and a stop cut short (the old 10 s) makes the restart replay
// the log past the previous snapshot before it answers (up to a third of
// the records: snapshots during an import scale with the state). 60 s
// gives 10M pairs five times what they took and stays under systemd's
// default TimeoutStopSec (90 s); a node of tens of millions needs minutes
// (38M pairs: a 2.7 GB snapshot took 3 minutes on the busy machine), set
// from the log as docs/operations.md "Stopping a node" says.
const defaultShutdownTimeout = 60 * time.Second

// serveConfig is the configuration of `wlns serve`. Every field is a flag,
// also settable as WLNS_<FLAG>; the defaults run a single-node development
// server on loopback.
type serveConfig struct {
	// data is the data folder: Raft log, snapshots, node ID, admin.token.
	data string
	// dns is the UDP and TCP listen address of the DNS server.
	dns string
	// http is the listen address of the HTTP API.
	http string
	// raft is the Raft listen address; advertise the one peers dial.
	raft, advertise string
	// nodeID is the Raft server ID; empty means generated on first start.
	nodeID string
	// bootstrap makes a new data folder a single-node cluster.
	bootstrap bool
	// apex is the zone apex; ns and hostmaster go into its SOA/NS records.
	apex, hostmaster string
	// delegation configures the lame-delegation check.
	delegation delegationConfig
	// consoleResolver is the DNS server (host:port) of the console's
	// reverse DNS check; empty: the system's resolver.
	consoleResolver string
	// consoleSecure says when the console's cookies are Secure: auto,
	// always or tls (serve_console.go).
	consoleSecure string
	// consoleSample is how often the console samples the query rate.
	consoleSample time.Duration
	ns            listFlag
	// ttl is the TTL of positive answers, negTTL of negative ones (seconds).
	ttl, negTTL int
	// readers is the number of UDP reader goroutines; 0 means one per CPU.
	readers int
	// logLevel is debug, info, warn or error; logFormat text or json.
	logLevel, logFormat string
	// readyFile, when set, receives the listen addresses once serving.
	readyFile string
	// shutdown bounds the graceful shutdown (defaultShutdownTimeout).
	shutdown time.Duration
	// startTimeout bounds the start-up of a new node: its join and the
	// wait for the store.
	startTimeout time.Duration
	// pprof, when set, is the listen address of the Go profiler.
	pprof string
	// clusterCA, clusterCert and clusterKey are the inter-node TLS files;
	// all set makes --raft the mutually authenticated inter-node port.
	clusterCA, clusterCert, clusterKey string
	// join is a member's inter-node address to join through; joinToken the
	// cluster's join secret.
	join, joinToken string
	// replace lets the join take out a live member that has this node's ID.
	replace bool
	// voters is how many voters the leader keeps; promoteAfter how long a
	// joined non-voter must stay healthy before it is promoted.
	voters       int
	promoteAfter time.Duration
	// raftProfile names the Raft timings: wan or lan.
	raftProfile string
	// maxStale, when positive, withdraws DNS (REFUSED) on a node that has
	// not heard from the leader for longer.
	maxStale time.Duration
	// minFreeDisk is the free space the data folder's disk must keep: below
	// it the node proposes nothing itself and, if it leads, steps down.
	minFreeDisk sizeFlag
	// expiry holds the expiry windows and loop intervals.
	expiry expiryConfig
	// verify holds the verification flags (serve_verify.go).
	verify verifyConfig
	// httpTLS holds the HTTPS flags, dnsTLS the DNS-over-TLS ones
	// (serve_tls.go).
	httpTLS tlsFiles
	dnsTLS  dnsTLSConfig
	// hygiene holds the DNS rate-limiting, NSID and cookie flags (serve_hygiene.go).
	hygiene hygieneConfig
	// whois holds the WHOIS flags (serve_whois.go).
	whois whoisConfig
	// xfr holds the zone transfer flags (serve_xfr.go).
	xfr xfrConfig
	// only holds the --serve-only flags (serve_only.go).
	only onlyConfig
}

// tls reports whether the inter-node TLS files are configured.
func (c *serveConfig) tls() bool {
	return c.clusterCA != "" || c.clusterCert != "" || c.clusterKey != ""
}

func (c *serveConfig) declare(fs *flag.FlagSet) {
	fs.StringVar(&c.data, "data", "./wlns-data", "data folder (Raft log, snapshots, node ID, admin.token)")
	fs.StringVar(&c.dns, "dns", defaultDNS, "DNS listen address, UDP and TCP (port 0: any free port)")
	fs.StringVar(&c.http, "http", "127.0.0.1:8053", "HTTP API listen address")
	fs.StringVar(&c.raft, "raft", "127.0.0.1:8300", "Raft listen address")
	fs.StringVar(&c.advertise, "advertise", "", "Raft address peers dial (default: the bound --raft address)")
	fs.StringVar(&c.nodeID, "node-id", "", "Raft node ID (default: generated on first start, kept in the data folder)")
	fs.BoolVar(&c.bootstrap, "bootstrap", true, "make a new data folder a single-node cluster")
	fs.StringVar(&c.apex, "apex", defaultApex, "zone apex the DNS server answers for")
	fs.Var(&c.ns, "ns", "fully qualified names of the zone's name servers for its NS and SOA records (repeat, or separate with commas; default localhost., for development only); "+
		"a name inside the zone needs its address, as `ns1.wl.example.org=192.0.2.53` (repeat for an IPv6 one), which wlns answers and sends as glue")
	fs.StringVar(&c.hostmaster, "hostmaster", "", "SOA responsible mailbox (default hostmaster@<apex>)")
	fs.IntVar(&c.ttl, "ttl", 300, "TTL of positive answers, seconds")
	fs.IntVar(&c.negTTL, "negative-ttl", 60, "TTL of negative answers (SOA minimum), seconds")
	fs.IntVar(&c.readers, "readers", 0, "UDP reader goroutines (default: one per CPU)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.readyFile, "ready-file", "", "write the listen addresses as JSON to this file once serving")
	fs.DurationVar(&c.shutdown, "shutdown-timeout", defaultShutdownTimeout, "time limit of the graceful shutdown, which ends with a snapshot of everything applied since the last one (10M pairs: about 10 s on a loaded 2-core machine); a stop cut short makes the next start replay the log")
	fs.DurationVar(&c.startTimeout, "start-timeout", 10*time.Minute, "how long a new node (no data yet) waits at start-up to join through --join, for a Raft leader and to apply its log, before it exits 1; a node with data serves DNS from it and waits as long as it takes")
	fs.StringVar(&c.clusterCA, "cluster-ca", "", "cluster CA certificate (PEM); with --cluster-cert and --cluster-key the --raft port becomes the mutual-TLS inter-node port")
	fs.StringVar(&c.clusterCert, "cluster-cert", "", "this node's certificate `FILE` (PEM, made by wlns ca issue)")
	fs.StringVar(&c.clusterKey, "cluster-key", "", "this node's private key (PEM)")
	fs.StringVar(&c.join, "join", "", "inter-node address (host:port) of any cluster member to join through on first start (needs the --cluster-* flags)")
	fs.BoolVar(&c.replace, "replace", false, "with --join: this node replaces the member that has its node ID even if that member still answers (it is taken out of the cluster and withdraws); without it such a join is refused")
	fs.StringVar(&c.joinToken, "join-token", "", "cluster join secret: on the first node it sets the secret (default: generated into <data>/join.token); on a joining node it is presented")
	fs.IntVar(&c.voters, "voters", 7, "voters the leader keeps: nodes join as non-voters and are promoted while there are fewer")
	fs.DurationVar(&c.promoteAfter, "promote-after", 10*time.Second, "how long a joined non-voter must stay caught up and in contact before the leader promotes it to voter")
	fs.StringVar(&c.raftProfile, "raft-profile", raftstore.ProfileWAN, "Raft timings: wan (nodes 100-300 ms apart) or lan (a few ms apart); see docs/cluster.md")
	fs.DurationVar(&c.maxStale, "max-stale", 0, "answer REFUSED to every DNS query, and fail /readyz, while this node has not heard from the leader for longer than this (0: never)")
	c.minFreeDisk = raftstore.DefaultDiskReserve
	fs.Var(&c.minFreeDisk, "min-free-disk", "free space the data folder's disk must keep (e.g. 64MiB, 1GiB): below it the node proposes no writes itself (a leader or single node answers 503 naming the disk; a follower forwards them to the leader), fails /readyz and hands leadership to another voter, until there is room again")
	c.expiry.declare(fs)
	c.verify.declare(fs)
	c.delegation.declare(fs)
	fs.DurationVar(&c.consoleSample, "console-sample", time.Minute, "how often the web console samples this node's DNS query rate for the cluster page's chart of the last 60 samples")
	fs.StringVar(&c.consoleResolver, "console-resolver", "", "recursive DNS server (host:port) the web console asks when it checks a relay's forward-confirmed reverse DNS (default: the system's resolver)")
	fs.StringVar(&c.consoleSecure, "console-secure-cookies", secureAuto, "when the web console's cookies are marked Secure: auto (over TLS, and on every request when --verify-url is https://, as behind a TLS proxy), always (behind a TLS-terminating proxy), or tls (only requests that came over TLS to --http)")
	c.httpTLS.flag = "http"
	c.httpTLS.declare(fs, "the HTTP API and pages (default: plain HTTP, for loopback)")
	c.dnsTLS.declare(fs)
	c.hygiene.declare(fs)
	c.whois.declare(fs)
	c.xfr.declare(fs)
	c.only.declare(fs)
	fs.StringVar(&c.pprof, "pprof", "", "serve the Go profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (default off)")
}

// validate reports everything wrong with c at once.
func (c *serveConfig) validate() error {
	var errs []error
	for _, a := range []struct{ name, addr string }{{"dns", c.dns}, {"http", c.http}, {"raft", c.raft}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: want host:port", a.name, a.addr))
		}
	}
	if c.data == "" {
		errs = append(errs, errors.New("--data is required"))
	}
	if strings.Trim(c.apex, ".") == "" {
		errs = append(errs, errors.New("--apex is required"))
	}
	if err := zone.CheckNS(c.ns, c.apex); err != nil {
		errs = append(errs, fmt.Errorf("--ns: %w", err))
	}
	if c.ttl < 0 || c.negTTL < 0 || c.readers < 0 {
		errs = append(errs, errors.New("--ttl, --negative-ttl and --readers must not be negative"))
	}
	if c.shutdown <= 0 || c.startTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-timeout and --start-timeout must be positive"))
	}
	errs = append(errs, c.validateCluster()...)
	errs = append(errs, c.expiry.validate()...)
	errs = append(errs, c.verify.validate()...)
	errs = append(errs, c.httpTLS.validate()...)
	errs = append(errs, c.dnsTLS.validate()...)
	errs = append(errs, c.hygiene.validate()...)
	errs = append(errs, c.whois.validate()...)
	errs = append(errs, c.xfr.validate()...)
	if _, err := secureCookies(c.consoleSecure, c.verify.baseURL); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.only.validate(c)...)
	if _, err := parseLevel(c.logLevel); err != nil {
		errs = append(errs, err)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.logFormat))
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// validateCluster checks the cluster flags.
func (c *serveConfig) validateCluster() []error {
	var errs []error
	if c.tls() && (c.clusterCA == "" || c.clusterCert == "" || c.clusterKey == "") {
		errs = append(errs, errors.New("--cluster-ca, --cluster-cert and --cluster-key go together"))
	}
	if c.join != "" {
		if !c.tls() {
			errs = append(errs, errors.New("--join needs --cluster-ca, --cluster-cert and --cluster-key: nodes talk to each other only over mutual TLS; without them a node is single-node only"))
		}
		if c.joinToken == "" {
			errs = append(errs, errors.New("--join needs --join-token (the secret in the first node's <data>/join.token)"))
		}
		if _, _, err := net.SplitHostPort(c.join); err != nil {
			errs = append(errs, fmt.Errorf("--join %q: want host:port", c.join))
		}
	}
	if c.replace && c.join == "" {
		errs = append(errs, errors.New("--replace goes with --join"))
	}
	if c.joinToken != "" && !c.tls() {
		errs = append(errs, errors.New("--join-token needs --cluster-ca, --cluster-cert and --cluster-key"))
	}
	if c.voters < 1 {
		errs = append(errs, errors.New("--voters must be at least 1"))
	}
	if c.minFreeDisk == 0 {
		errs = append(errs, errors.New("--min-free-disk must be positive: a node that fills its disk to the last byte cannot write even the log entry that makes it leader"))
	}
	if c.promoteAfter < 0 || c.maxStale < 0 {
		errs = append(errs, errors.New("--promote-after and --max-stale must not be negative"))
	}
	if _, err := raftstore.ProfileByName(c.raftProfile); err != nil {
		errs = append(errs, fmt.Errorf("--raft-profile: %w", err))
	}
	return errs
}
