package console

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// delegationsData fills the delegations page.
type delegationsData struct {
	Rows []admin.DelegationInfo
	// Checks is false when this node runs no lame-delegation check.
	Checks bool
	// The form's values after an error.
	Prefix, NS string
	Scope      []string
}

// delegations lists the delegated prefixes inside the session's scope,
// with their cuts and this node's latest lame check, and the form to
// delegate another.
func (c *Console) delegations(w http.ResponseWriter, r *http.Request, s *session) error {
	c.renderDelegations(w, r, s, http.StatusOK, "", delegationsData{})
	return nil
}

func (c *Console) renderDelegations(w http.ResponseWriter, r *http.Request, s *session, status int, msg string, d delegationsData) {
	d.Checks, d.Scope = c.cfg.DelegationCheck != nil, scopeOf(s)
	for _, dl := range c.store.Index().Load().Delegations() {
		if s.Admin() || admin.Within(dl.Prefix, s.tok.Prefixes) {
			d.Rows = append(d.Rows, admin.NewDelegationInfo(dl, c.cfg.Apex, c.cfg.DelegationCheck))
		}
	}
	c.render(w, status, "delegations", view{Title: "Delegated prefixes", Nav: "delegations", S: s, Error: msg, Notice: notice(r), Data: d})
}

// delegate delegates a prefix (or replaces its name servers) with the
// API's validation (admin.DelegationBody).
func (c *Console) delegate(w http.ResponseWriter, r *http.Request, s *session) error {
	d := delegationsData{Prefix: strings.TrimSpace(r.PostFormValue("prefix")), NS: r.PostFormValue("ns")}
	ns, err := parseNameServers(d.NS)
	if err == nil {
		err = outsideScope(s, []string{d.Prefix})
	}
	if err == nil {
		var body command.DelegationBody
		body, err = admin.DelegationBody(s.tok, c.cfg.Apex, &admin.DelegationRequest{Prefix: d.Prefix, NS: ns})
		if err != nil {
			status, msg := admin.ErrorStatus(err)
			err = failf(status, "%s.", sentence(msg))
		} else {
			body.By = "console:" + s.Who
			_, err = c.propose(r.Context(), command.DelegationPut, body)
		}
	}
	if ue, ok := err.(*userError); ok && ue.status < 500 {
		c.renderDelegations(w, r, s, ue.status, ue.msg, d)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/delegations?done=saved", http.StatusSeeOther)
	return nil
}

// undelegate ends the delegation of a prefix inside the session's scope.
func (c *Console) undelegate(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := record.ParsePrefix(r.PostFormValue("prefix"))
	if err != nil || c.store.Index().Load().DelegationOf(p) == nil || !(s.Admin() || admin.Within(p, s.tok.Prefixes)) {
		return failf(http.StatusNotFound, "%q is not one of your delegated prefixes.", r.PostFormValue("prefix"))
	}
	if _, err := c.propose(r.Context(), command.DelegationDelete, command.DelegationBody{Prefix: p.String()}); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/delegations?done=deleted", http.StatusSeeOther)
	return nil
}

// parseNameServers reads the name servers field: one server a line, its
// host name followed by its glue addresses, if any.
func parseNameServers(s string) ([]record.NameServer, error) {
	var out []record.NameServer
	for _, line := range strings.Split(s, "\n") {
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' })
		if len(f) == 0 {
			continue
		}
		ns := record.NameServer{Name: f[0]}
		for _, a := range f[1:] {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				return nil, failf(http.StatusBadRequest, "%q (for %s) is not an IP address.", a, f[0])
			}
			ns.Addrs = append(ns.Addrs, ip)
		}
		out = append(out, ns)
	}
	if len(out) == 0 {
		return nil, failf(http.StatusBadRequest, "Enter at least one name server, one a line.")
	}
	return out, nil
}
