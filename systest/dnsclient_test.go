package systest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// reply is a DNS answer reduced to what the tests compare, whichever client
// produced it.
type reply struct {
	rcode  int
	aa     bool
	answer []dns.RR
	ns     []dns.RR
}

// String is the compact form used in failure messages.
func (r reply) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s aa=%v", dns.RcodeToString[r.rcode], r.aa)
	for _, rr := range r.answer {
		fmt.Fprintf(&b, "\n  an: %s", rr)
	}
	for _, rr := range r.ns {
		fmt.Fprintf(&b, "\n  ns: %s", rr)
	}
	return b.String()
}

// data returns the sorted rdata of the answer records of type t, such as
// "127.0.2.1" for A or the quoted strings for TXT.
func (r reply) data(t uint16) []string {
	var out []string
	for _, rr := range r.answer {
		if rr.Header().Rrtype != t {
			continue
		}
		out = append(out, strings.TrimPrefix(rr.String(), rr.Header().String()))
	}
	slices.Sort(out)
	return out
}

// soa returns the SOA of the authority section, or nil.
func (r reply) soa() *dns.SOA {
	for _, rr := range r.ns {
		if s, ok := rr.(*dns.SOA); ok {
			return s
		}
	}
	return nil
}

// dnsClient is one way of asking a question: a program and a transport.
type dnsClient struct {
	name string
	ask  func(t testing.TB, server, qname string, qtype uint16) reply
}

// allClients asks over UDP and TCP with the miekg/dns client, dig and kdig.
// The tool clients stop the test (fail in CI, skip elsewhere) when missing.
func allClients(t testing.TB) []dnsClient {
	t.Helper()
	dig := needTool(t, "dig", "bind9-dnsutils")
	kdig := needTool(t, "kdig", "knot-dnsutils")
	return []dnsClient{
		{"miekg/udp", miekgAsk("udp")},
		{"miekg/tcp", miekgAsk("tcp")},
		{"dig/udp", toolAsk(dig, "+notcp", "+tries=2", "+time=3")},
		{"dig/tcp", toolAsk(dig, "+tcp", "+tries=1", "+time=3")},
		{"kdig/udp", toolAsk(kdig, "+notcp", "+retry=1", "+time=3")},
		{"kdig/tcp", toolAsk(kdig, "+tcp", "+retry=0", "+time=3")},
	}
}

// miekgAsk returns a client that asks with miekg/dns over net ("udp"/"tcp").
func miekgAsk(network string) func(testing.TB, string, string, uint16) reply {
	return func(t testing.TB, server, qname string, qtype uint16) reply {
		t.Helper()
		m, err := exchange(network, server, qname, qtype)
		if err != nil {
			t.Fatalf("miekg/%s %s %s: %v", network, qname, dns.TypeToString[qtype], err)
		}
		return reply{rcode: m.Rcode, aa: m.Authoritative, answer: m.Answer, ns: m.Ns}
	}
}

// exchange sends one non-recursive query with EDNS0.
func exchange(network, server, qname string, qtype uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(qname), qtype)
	q.RecursionDesired = false
	q.SetEdns0(1232, false)
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	m, _, err := c.Exchange(q, server)
	if err != nil {
		return nil, fmt.Errorf("asking %s over %s: %w", server, network, err)
	}
	return m, nil
}

// toolAsk returns a client that runs dig or kdig with opts and parses its
// default output.
func toolAsk(bin string, opts ...string) func(testing.TB, string, string, uint16) reply {
	return func(t testing.TB, server, qname string, qtype uint16) reply {
		t.Helper()
		host, port, err := net.SplitHostPort(server)
		if err != nil {
			t.Fatalf("server address %q: %v", server, err)
		}
		args := append([]string{"@" + host, "-p", port, "+norec"}, opts...)
		args = append(args, qname, dns.TypeToString[qtype])
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
		}
		r, err := parseToolOutput(string(out))
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, out)
		}
		return r
	}
}

var (
	statusRE = regexp.MustCompile(`->>HEADER<<- opcode: [A-Z]+[,;] status: ([A-Z]+)`)
	flagsRE  = regexp.MustCompile(`(?i)^;; flags:([a-z ]*);`)
)

// parseToolOutput reads dig's or kdig's default presentation output.
func parseToolOutput(out string) (reply, error) {
	var r reply
	status := statusRE.FindStringSubmatch(out)
	if status == nil {
		return r, fmt.Errorf("no status line in output")
	}
	rc, ok := dns.StringToRcode[status[1]]
	if !ok {
		return r, fmt.Errorf("unknown status %q", status[1])
	}
	r.rcode = rc
	section := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if f := flagsRE.FindStringSubmatch(line); f != nil {
			r.aa = slices.Contains(strings.Fields(f[1]), "aa")
		}
		switch {
		case strings.HasPrefix(line, ";; ") && strings.HasSuffix(line, "SECTION:"):
			section = strings.Fields(line)[1]
			continue
		case line == "" || strings.HasPrefix(line, ";"):
			continue
		}
		if section != "ANSWER" && section != "AUTHORITY" {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			return r, fmt.Errorf("parsing record %q: %w", line, err)
		}
		if section == "ANSWER" {
			r.answer = append(r.answer, rr)
		} else {
			r.ns = append(r.ns, rr)
		}
	}
	return r, nil
}

// want is what a query must return, with every client.
type want struct {
	rcode int
	a     []string // A rdata, sorted; nil means no A records
	txt   bool     // at least one TXT record in the answer
	soa   bool     // the SOA in the authority section (negative answers)
	txtRE string   // when set, some TXT record must match it
	has   uint16   // when set, the answer must hold a record of this type
}

// check asks server with every client and compares each answer with w.
func check(t testing.TB, clients []dnsClient, server, qname string, qtype uint16, w want) reply {
	t.Helper()
	var last reply
	for _, c := range clients {
		r := c.ask(t, server, qname, qtype)
		if problem := w.mismatch(r); problem != "" {
			t.Errorf("%s %s %s: %s; got %s", c.name, qname, dns.TypeToString[qtype], problem, r)
		}
		last = r
	}
	return last
}

// mismatch says how r differs from w, or returns "".
func (w want) mismatch(r reply) string {
	switch {
	case r.rcode != w.rcode:
		return "want rcode " + dns.RcodeToString[w.rcode]
	case w.rcode != dns.RcodeRefused && !r.aa:
		return "answer is not authoritative"
	case !slices.Equal(r.data(dns.TypeA), w.a):
		return fmt.Sprintf("want A %v", w.a)
	case w.txt && len(r.data(dns.TypeTXT)) == 0:
		return "want a TXT record"
	case !w.txt && len(r.data(dns.TypeTXT)) != 0:
		return "want no TXT record"
	case w.soa && r.soa() == nil:
		return "want the SOA in the authority section"
	}
	if w.has != 0 && !slices.ContainsFunc(r.answer, func(rr dns.RR) bool { return rr.Header().Rrtype == w.has }) {
		return "want a " + dns.TypeToString[w.has] + " record in the answer"
	}
	if w.txtRE != "" {
		re := regexp.MustCompile(w.txtRE)
		if !slices.ContainsFunc(r.data(dns.TypeTXT), re.MatchString) {
			return "want TXT matching " + w.txtRE
		}
	}
	return ""
}

// Return codes, from docs/query-format.md.
const (
	codeRelay  = "127.0.2.1"
	codeSender = "127.0.2.2"
	codeDomain = "127.0.2.3"
	codeVerp   = "127.0.2.4"
)

// Common expectations.
var (
	nxdomain = want{rcode: dns.RcodeNameError, soa: true}
	nodata   = want{rcode: dns.RcodeSuccess, soa: true}
	refused  = want{rcode: dns.RcodeRefused}
)

// listedA is a positive A answer with code.
func listedA(code string) want { return want{rcode: dns.RcodeSuccess, a: []string{code}} }

// listedAny is a positive ANY answer: the A with code and a TXT.
func listedAny(code string) want { return want{rcode: dns.RcodeSuccess, a: []string{code}, txt: true} }

// listedTXT is a positive TXT answer.
func listedTXT() want { return want{rcode: dns.RcodeSuccess, txt: true} }
