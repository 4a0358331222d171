package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/fsm"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// fsmStore applies commands straight into the real state machine, without
// Raft: the same rejections as a cluster, no network. It records what was
// applied so tests can assert that nothing was.
type fsmStore struct {
	mu      sync.Mutex
	fsm     *fsm.FSM
	n       uint64
	applied []command.Type
	err     error // returned by Apply when set
}

func (s *fsmStore) Apply(_ context.Context, e *command.Envelope) (command.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return command.Result{}, s.err
	}
	b, err := e.Encode()
	if err != nil {
		return command.Result{}, err
	}
	s.n++
	s.applied = append(s.applied, e.Type)
	out := s.fsm.ApplyEntries([]fsm.Entry{{Index: s.n, Term: 1, Command: true, Data: b}})[0]
	return out.(command.Result), nil
}

func (s *fsmStore) appliedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.applied)
}

func (s *fsmStore) Index() index.Reader                        { return s.fsm.Index() }
func (s *fsmStore) Challenge(h string) *record.Challenge       { return s.fsm.Challenge(h) }
func (s *fsmStore) ChallengeByID(id string) *record.Challenge  { return s.fsm.ChallengeByID(id) }
func (s *fsmStore) Challenges(fn func(*record.Challenge) bool) { s.fsm.Challenges(fn) }
func (s *fsmStore) NodeID() string                             { return "node-1" }

// sunk is one message the sink accepted.
type sunk struct {
	from string
	to   []string
	data string
	tls  bool
	user string
}

// sink is an SMTP server on 127.0.0.1 that records what it is sent.
type sink struct {
	addr    string
	mu      sync.Mutex
	mails   []sunk
	tries   int   // RCPT commands seen
	rcptErr error // answered to RCPT when set
}

func (k *sink) messages() []sunk {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]sunk(nil), k.mails...)
}

func (k *sink) setRcptErr(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rcptErr = err
}

func (k *sink) attempts() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.tries
}

type sinkSession struct {
	k    *sink
	conn *smtp.Conn
	m    sunk
}

func (s *sinkSession) Reset()        { s.m = sunk{user: s.m.user} }
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.m.from = from
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	s.k.tries++
	if s.k.rcptErr != nil {
		return s.k.rcptErr
	}
	s.m.to = append(s.m.to, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.m.tls = s.conn.TLSConnectionState()
	s.m.data = string(b)
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	s.k.mails = append(s.k.mails, s.m)
	return nil
}

func (s *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *sinkSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "wlns" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.m.user = user
		return nil
	}), nil
}

// sinkTLS says how the sink speaks TLS.
type sinkTLS int

const (
	plainSink sinkTLS = iota
	startTLSSink
	implicitTLSSink
)

// startSink runs a sink; with TLS it uses a fresh self-signed certificate
// for 127.0.0.1 and returns the path of its PEM file.
func startSink(t testing.TB, mode sinkTLS) (*sink, string) {
	t.Helper()
	k := &sink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &sinkSession{k: k, conn: c}, nil
	}))
	srv.Domain = "sink.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.AllowInsecureAuth = mode == plainSink
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var caFile string
	if mode != plainSink {
		cert, file := selfSigned(t)
		caFile = file
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if mode == implicitTLSSink {
			l = tls.NewListener(l, srv.TLSConfig)
		}
	}
	k.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return k, caFile
}

// selfSigned makes a certificate for 127.0.0.1 and writes it as PEM.
func selfSigned(t testing.TB) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sink.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "sink.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}

// testEnv is a service over a real state machine, mailing into a sink.
type testEnv struct {
	t     testing.TB
	store *fsmStore
	svc   *Service
	sink  *sink
	reg   *prometheus.Registry
	now   time.Time
	// entities seeded by newEnv
	group, relay, unregistered uint64
}

// Relay addresses of the seeded entities.
var (
	groupIP        = netip.MustParseAddr("192.0.2.1")    // group "mx-group" 192.0.2.0/28
	groupIP2       = netip.MustParseAddr("192.0.2.9")    // another member
	relayIP        = netip.MustParseAddr("198.51.100.7") // registered, PTR mx1.example.net
	unregisteredIP = netip.MustParseAddr("203.0.113.9")  // made by a pair, not registered
	strangerIP     = netip.MustParseAddr("100.64.0.1")   // no entity
)

func newEnv(t testing.TB, change ...func(*Config)) *testEnv {
	t.Helper()
	k, _ := startSink(t, plainSink)
	e := &testEnv{t: t, sink: k, reg: prometheus.NewRegistry(), now: time.Unix(1_800_000_000, 0),
		store: &fsmStore{fsm: fsm.NewFSM(slog.New(slog.DiscardHandler), nil)}}
	cfg := Config{
		BaseURL: "https://wl.example.org", MailDomain: "wl.example.org",
		Relay: Relay{Addr: k.addr, Timeout: 5 * time.Second, HELO: "node-1.wl.example.org"},
		Now:   func() time.Time { return e.now }, Logger: slog.New(slog.DiscardHandler), Registerer: e.reg,
	}
	for _, c := range change {
		c(&cfg)
	}
	svc, err := New(cfg, e.store)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.svc = svc
	e.group = e.mustApply(command.EntityPut, command.EntityBody{Name: "mx-group", Group: true, Prefixes: []string{"192.0.2.0/28"}}).ID
	e.relay = e.mustApply(command.EntityPut, command.EntityBody{Registered: true, Prefixes: []string{relayIP.String()},
		Contact: "postmaster@example.net", PTR: "mx1.example.net"}).ID
	e.unregistered = e.mustApply(command.PairPut, command.PairBody{Sender: "someone@else.example", IP: unregisteredIP.String()}).ID
	return e
}

func (e *testEnv) mustApply(t command.Type, body any) command.Result {
	e.t.Helper()
	env, err := command.New(t, e.now.Unix(), "", body)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := e.store.Apply(context.Background(), env)
	if err != nil || res.Err != nil {
		e.t.Fatalf("%s: %v %v", t, err, res.Err)
	}
	return res
}

// request calls Request and fails the test on an error.
func (e *testEnv) request(sender string, ip netip.Addr) Outcome {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := e.svc.Request(ctx, sender, ip, "mta-1")
	if err != nil {
		e.t.Fatalf("Request(%s, %s): %v", sender, ip, err)
	}
	return o
}

// mustSend requests a challenge that must be sent and returns it with
// the token read from the mail the sink got.
func (e *testEnv) mustSend(sender string, ip netip.Addr) (*record.Challenge, string) {
	e.t.Helper()
	o := e.request(sender, ip)
	if o.Result != Sent || o.Challenge == nil {
		e.t.Fatalf("Request(%s, %s) = %+v, want sent", sender, ip, o)
	}
	mails := e.sink.messages()
	return o.Challenge, tokenIn(e.t, mails[len(mails)-1].data)
}

var confirmLink = regexp.MustCompile(`/verify/confirm/([a-z2-7]+)`)

// tokenIn reads the token from a challenge mail's confirm link.
func tokenIn(t testing.TB, mail string) string {
	t.Helper()
	m := confirmLink.FindStringSubmatch(mail)
	if m == nil {
		t.Fatalf("no confirm link in mail:\n%s", mail)
	}
	return m[1]
}

// page is what a confirmation page request got back.
type pageResp struct {
	status int
	header http.Header
	body   string
}

func (e *testEnv) page(method, path string) pageResp {
	e.t.Helper()
	return e.serve(e.svc.Handler(), method, path)
}

// serve runs one request through h.
func (e *testEnv) serve(h http.Handler, method, path string) pageResp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return pageResp{status: w.Code, header: w.Header(), body: w.Body.String()}
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

var errNoQuorum = errors.New("no quorum")
