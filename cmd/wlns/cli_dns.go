package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// Defaults shared with serve.
const (
	defaultApex = "wl.example.org"
	defaultDNS  = "127.0.0.1:5300"
)

// queryName is one name a mail server would ask about a sender and relay.
type queryName struct {
	kind string // sender, verp or relay
	name string
}

// queryNames builds the sender, VERP and relay names for sender through ip
// (no VERP name for an address literal).
func queryNames(sender, ip, apex, form string) ([]queryName, error) {
	f, err := qname.ParseForm(form)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, usageErrorf("invalid IP %q: %v", ip, err)
	}
	norm, err := record.NormalizeSender(sender)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	at := strings.LastIndexByte(norm, '@')
	if at < 0 {
		return nil, usageErrorf("sender %q is not an address local@domain", sender)
	}
	s, err := qname.Sender(norm, addr, apex, f)
	if err != nil {
		return nil, fmt.Errorf("%w (try --form hashed)", err)
	}
	names := []queryName{{"sender", s}}
	if !record.IsAddressLiteral(norm[at+1:]) { // a literal has no VERP entry
		v, err := qname.Verp(norm[at+1:], addr, apex)
		if err != nil {
			return nil, err
		}
		names = append(names, queryName{"verp", v})
	}
	return append(names, queryName{"relay", qname.Relay(addr, apex)}), nil
}

func nameCommand() *subcommand {
	return &subcommand{
		name: "name", args: "SENDER IP", nargs: [2]int{2, 2},
		summary: "print the sender, VERP and relay query names of SENDER sending through IP",
		setup: func(fs *flag.FlagSet) runFunc {
			apex := fs.String("apex", defaultApex, "zone apex")
			form := fs.String("form", "escaped", "sender form: escaped, plain, hashed or hashed-domain")
			return func(_ context.Context, e *invocation) error {
				names, err := queryNames(e.args[0], e.args[1], *apex, *form)
				if err != nil {
					return err
				}
				for _, n := range names {
					fmt.Fprintf(e.stdout, "%s\t%s\n", n.kind, n.name)
				}
				return nil
			}
		},
	}
}

func checkCommand() *subcommand {
	return &subcommand{
		name: "check", args: "SENDER IP", nargs: [2]int{2, 2},
		summary: "ask a wlns DNS server about SENDER through IP; exit 0 when listed, 1 when not, 2 on error",
		setup: func(fs *flag.FlagSet) runFunc {
			apex := fs.String("apex", defaultApex, "zone apex")
			form := fs.String("form", "escaped", "sender form: escaped, plain, hashed or hashed-domain")
			server := fs.String("dns", defaultDNS, "DNS server address host:port")
			tcp := fs.Bool("tcp", false, "ask over TCP")
			timeout := fs.Duration("timeout", 3*time.Second, "time limit of each query")
			return func(ctx context.Context, e *invocation) error {
				names, err := queryNames(e.args[0], e.args[1], *apex, *form)
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				c := &dns.Client{Timeout: *timeout}
				if *tcp {
					c.Net = "tcp"
				}
				return runCheck(ctx, e.stdout, c, *server, names)
			}
		},
	}
}

// runCheck asks A and TXT of every name and prints the answers like dig.
func runCheck(ctx context.Context, w io.Writer, c *dns.Client, server string, names []queryName) error {
	listed := false
	for _, n := range names {
		fmt.Fprintf(w, ";; %s: %s\n", n.kind, n.name)
		for _, qt := range []uint16{dns.TypeA, dns.TypeTXT} {
			resp, err := ask(ctx, c, server, n.name, qt)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintf(w, ";; %s %s: %s\n", dns.TypeToString[qt], n.kind, dns.RcodeToString[resp.Rcode])
			for _, rr := range resp.Answer {
				fmt.Fprintln(w, rr.String())
				if _, ok := rr.(*dns.A); ok && n.kind == "sender" {
					listed = true
				}
			}
		}
	}
	if !listed {
		fmt.Fprintln(w, ";; not listed")
		return &exitError{code: exitFailure}
	}
	fmt.Fprintln(w, ";; listed")
	return nil
}

// errBadAnswer means the server did not answer as an authoritative wlns.
var errBadAnswer = errors.New("unexpected answer")

func ask(ctx context.Context, c *dns.Client, server, name string, qt uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qt)
	m.RecursionDesired = false
	resp, _, err := c.ExchangeContext(ctx, m, server)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("asking %s for %s: no answer within %v", server, name, c.Timeout)
		}
		return nil, fmt.Errorf("asking %s for %s: %w", server, name, err)
	}
	if resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("asking %s for %s: %w: %s", server, name, errBadAnswer, dns.RcodeToString[resp.Rcode])
	}
	return resp, nil
}
