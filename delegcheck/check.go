package delegcheck

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// Result is the latest check of one delegation on this node.
type Result struct {
	// Checked is when the check ended, Unix seconds.
	Checked int64 `json:"checked"`
	// Lame is true when at least one name server address did not answer
	// authoritatively for every cut of the delegation.
	Lame bool `json:"lame"`
	// Servers are the name server addresses checked, with what was wrong.
	Servers []Server `json:"servers"`
}

// Server is the check of one name server address.
type Server struct {
	// Name is the name server's host name.
	Name string `json:"name"`
	// Addr is the address asked; empty when none was found.
	Addr string `json:"addr,omitempty"`
	// Problem says what was wrong; empty for a server that answered
	// authoritatively with the cut's SOA in every tree.
	Problem string `json:"problem,omitempty"`
}

// checkServer asks addr for the SOA of each cut and returns what was
// wrong, "" when every answer was authoritative and held the cut's SOA.
func (c *Checker) checkServer(ctx context.Context, addr netip.Addr, cuts []string) string {
	for _, cut := range cuts {
		if p := c.askSOA(ctx, addr, cut); p != "" {
			return p
		}
	}
	return ""
}

// askSOA sends one SOA query and judges the answer.
func (c *Checker) askSOA(ctx context.Context, addr netip.Addr, cut string) string {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(cut, dns.TypeSOA)
	m.RecursionDesired = false
	cl := &dns.Client{Net: "udp", Timeout: c.cfg.Timeout}
	in, _, err := cl.ExchangeContext(ctx, m, net.JoinHostPort(addr.String(), strconv.Itoa(c.cfg.Port)))
	switch {
	case err != nil:
		return fmt.Sprintf("%s SOA: no answer: %v", cut, err)
	case in.Rcode != dns.RcodeSuccess:
		return fmt.Sprintf("%s SOA: %s", cut, dns.RcodeToString[in.Rcode])
	case !in.Authoritative:
		return fmt.Sprintf("%s SOA: answer not authoritative (AA off)", cut)
	}
	for _, rr := range in.Answer {
		if soa, ok := rr.(*dns.SOA); ok && strings.EqualFold(soa.Hdr.Name, cut) {
			return ""
		}
	}
	return fmt.Sprintf("%s SOA: no SOA for the cut in the answer", cut)
}

// addrsOf returns the addresses to check of a name server: its glue, or
// what the resolver finds for a name without glue.
func (c *Checker) addrsOf(ctx context.Context, ns record.NameServer) ([]netip.Addr, error) {
	if len(ns.Addrs) > 0 {
		return ns.Addrs, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	addrs, err := c.cfg.Resolve(ctx, ns.Name)
	if err != nil {
		return nil, fmt.Errorf("looking up %s: %w", ns.Name, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%s has no address", ns.Name)
	}
	return addrs, nil
}

// checkDelegation checks every address of every name server of d.
func (c *Checker) checkDelegation(ctx context.Context, d *record.Delegation) *Result {
	var cuts []string
	for _, tree := range record.Trees() {
		cut, err := qname.Cut(d.Prefix, tree, c.cfg.Apex)
		if err != nil {
			return &Result{Lame: true, Servers: []Server{{Problem: err.Error()}}}
		}
		cuts = append(cuts, cut)
	}
	r := &Result{}
	for _, ns := range d.NS {
		addrs, err := c.addrsOf(ctx, ns)
		if err != nil {
			r.Servers = append(r.Servers, Server{Name: ns.Name, Problem: err.Error()})
			continue
		}
		for _, a := range addrs {
			r.Servers = append(r.Servers, Server{Name: ns.Name, Addr: a.String(), Problem: c.checkServer(ctx, a, cuts)})
		}
	}
	for _, s := range r.Servers {
		r.Lame = r.Lame || s.Problem != ""
	}
	r.Checked = c.cfg.Now().Unix()
	return r
}

// defaultResolve looks a host name up with the system resolver.
func defaultResolve(ctx context.Context, host string) ([]netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}

// errNoApex means the checker was built without the zone's apex.
var errNoApex = fmt.Errorf("delegcheck: no apex")
