package console

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
)

// relayFormData fills the relay registration form.
type relayFormData struct {
	IP, Contact string
	Scope       []string
}

func (c *Console) relayForm(w http.ResponseWriter, r *http.Request, s *session) error {
	c.render(w, http.StatusOK, "relay", view{Title: "Register a relay", Nav: "relays", S: s, Data: relayFormData{Scope: scopeOf(s)}})
	return nil
}

// registerRelay registers a lone relay address with the API's validation
// (admin.RelayBody) once its reverse DNS is forward-confirmed: the PTR
// name of the address must resolve back to it, and becomes the relay's
// PTR. A postmaster's address must lie inside the session's prefixes.
func (c *Console) registerRelay(w http.ResponseWriter, r *http.Request, s *session) error {
	d := relayFormData{IP: strings.TrimSpace(r.PostFormValue("ip")), Contact: strings.TrimSpace(r.PostFormValue("contact")), Scope: scopeOf(s)}
	req := admin.RelayRequest{IP: d.IP, Contact: d.Contact}
	err := outsideScope(s, []string{d.IP})
	var body command.EntityBody
	if err == nil {
		body, err = admin.RelayBody(c.store.Index().Load(), s.tok, &req)
		if err != nil {
			status, msg := admin.ErrorStatus(err)
			err = failf(status, "%s.", sentence(msg))
		}
	}
	if err == nil {
		ip := netip.MustParsePrefix(body.Prefixes[0]).Addr()
		var ptr string
		if ptr, err = confirmPTR(r.Context(), c.resolver(), ip); err != nil {
			err = failf(http.StatusUnprocessableEntity, "Not registered: %v.", err)
		} else {
			body.PTR = ptr
			_, err = c.propose(r.Context(), command.EntityPut, body)
		}
	}
	if ue, ok := err.(*userError); ok && ue.status < 500 {
		c.render(w, ue.status, "relay", view{Title: "Register a relay", Nav: "relays", S: s, Error: ue.msg, Data: d})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/relays?done=saved", http.StatusSeeOther)
	return nil
}

func (c *Console) resolver() *net.Resolver {
	if c.cfg.Resolver != nil {
		return c.cfg.Resolver
	}
	return net.DefaultResolver
}
