package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"

	"github.com/wlns/wlns/qname"
	"github.com/wlns/wlns/record"
)

// Decision is the answer to one request.
type Decision struct {
	// Kind is DecisionPass, DecisionWouldDefer, DecisionDefer,
	// DecisionReject or DecisionError.
	Kind string
	// Reason says why, for logs and the passes metric: sender, verp,
	// null_sender, role, network, sasl, state, no_client, not_listed,
	// unlistable (an address wlns cannot hold) or lookup_failed.
	Reason string
	// Action is the reply to Postfix, without "action=".
	Action string
}

// Pass reasons.
const (
	reasonSender      = "sender"
	reasonVerp        = "verp"
	reasonNullSender  = "null_sender"
	reasonRole        = "role"
	reasonNetwork     = "network"
	reasonSASL        = "sasl"
	reasonState       = "state"
	reasonNoClient    = "no_client"
	reasonNotListed   = "not_listed"
	reasonUnlistable  = "unlistable"
	reasonLookupError = "lookup_failed"
)

// decider turns requests into decisions.
type decider struct {
	cfg *Config
	res *resolver
	m   *metrics
	log *slog.Logger
}

// decide answers one request. It never fails: a whitelist that cannot be
// asked gives a DecisionError with the fail-open or fail-closed action.
func (d *decider) decide(ctx context.Context, req *Request) Decision {
	dec, attrs := d.evaluate(ctx, req)
	d.m.decisions.WithLabelValues(dec.Kind).Inc()
	if dec.Kind == DecisionPass {
		d.m.passes.WithLabelValues(dec.Reason).Inc()
	}
	level := slog.LevelDebug
	switch dec.Kind {
	case DecisionWouldDefer, DecisionDefer, DecisionReject:
		level = slog.LevelInfo
	case DecisionError:
		level = slog.LevelWarn
	}
	if !d.log.Enabled(ctx, level) {
		return dec
	}
	attrs = append(attrs, slog.String("decision", dec.Kind), slog.String("reason", dec.Reason),
		slog.String("state", req.ProtocolState), slog.String("client", req.ClientAddress),
		slog.String("queue_id", req.QueueID), slog.String("instance", req.Instance))
	attrs = append(attrs, senderAttrs(req.Sender)...)
	if d.log.Enabled(ctx, slog.LevelDebug) {
		attrs = append(attrs, slog.String("sender", req.Sender))
	}
	d.log.LogAttrs(ctx, level, "policy decision", attrs...)
	return dec
}

// evaluate applies the rules in order: the pass-untouched cases, then the
// VERP zone, then the sender zone.
func (d *decider) evaluate(ctx context.Context, req *Request) (Decision, []slog.Attr) {
	if r, ok := d.untouched(req); ok {
		return d.pass(r), nil
	}
	client, err := netip.ParseAddr(req.ClientAddress)
	if err != nil {
		return d.pass(reasonNoClient), nil
	}
	client = client.Unmap()
	for _, p := range d.cfg.PassNetworks {
		if p.Contains(client) {
			return d.pass(reasonNetwork), nil
		}
	}
	// Postfix passes the sender unquoted (MAIL FROM:<" a"@x> as " a@x"):
	// none of it is quoting or padding to strip.
	sender, err := record.NormalizeUnquotedSender(req.Sender)
	at := strings.LastIndexByte(sender, '@')
	if err != nil || at <= 0 {
		return d.unlistable(err), nil
	}
	if vname, err := qname.Verp(sender[at+1:], client, d.cfg.Apex); err == nil {
		ans, err := d.res.lookup(ctx, vname)
		if err != nil {
			return d.failed(err), []slog.Attr{slog.String("err", err.Error())}
		}
		if ans.Listed {
			return d.listed(reasonVerp, client, sender[at+1:]), codeAttrs(ans)
		}
	}
	sname, err := senderName(sender, client, d.cfg.Apex)
	if err != nil {
		return d.unlistable(err), nil
	}
	ans, err := d.res.lookup(ctx, sname)
	if err != nil {
		return d.failed(err), []slog.Attr{slog.String("err", err.Error())}
	}
	if ans.Listed {
		return d.listed(reasonSender, client, ""), codeAttrs(ans)
	}
	return d.notListed(ctx, req, sender, client), codeAttrs(ans)
}

// untouched reports the cases that pass without any lookup.
func (d *decider) untouched(req *Request) (string, bool) {
	switch {
	case req.ProtocolState != "RCPT" && req.ProtocolState != "MAIL":
		return reasonState, true
	case req.Sender == "" || req.Sender == "<>":
		return reasonNullSender, true
	case isRole(req.Sender):
		return reasonRole, true
	case req.SASLUsername != "":
		return reasonSASL, true
	}
	return "", false
}

// isRole reports postmaster and MAILER-DAEMON senders, with or without a
// domain, in any case.
func isRole(sender string) bool {
	local := sender
	if at := strings.LastIndexByte(sender, '@'); at >= 0 {
		local = sender[:at]
	}
	return strings.EqualFold(local, "postmaster") || strings.EqualFold(local, "mailer-daemon")
}

// senderName builds the hashed-plus-domain sender-zone name, or the bare
// hashed one when the domain does not fit beside the hash. The readable
// forms are ambiguous: the server tries every local/domain split, so with
// first.last@sa.example listed, first@last.sa.example (no dot to escape: the
// same name) would pass through the same relay. A hash names one address
// exactly, and <hash>.<domain> still matches the domain-wide entries. An
// address literal domain (user@[192.0.2.1]) has no domain-wide entry.
func senderName(sender string, client netip.Addr, apex string) (string, error) {
	name, err := qname.Sender(sender, client, apex, qname.HashedDomain)
	if errors.Is(err, qname.ErrTooLong) || errors.Is(err, qname.ErrNotReadable) {
		return qname.Sender(sender, client, apex, qname.Hashed)
	}
	return name, err
}

func (d *decider) pass(reason string) Decision {
	return Decision{Kind: DecisionPass, Reason: reason, Action: ListedDunno}
}

// listed is the configured action for a listed sender or list server.
func (d *decider) listed(reason string, client netip.Addr, listDomain string) Decision {
	dec := Decision{Kind: DecisionPass, Reason: reason, Action: d.cfg.Listed}
	if d.cfg.Listed == ListedPrepend {
		what := "sender verified via " + client.String()
		if reason == reasonVerp {
			what = "VERP list server " + client.String() + " for " + listDomain
		}
		dec.Action = ListedPrepend + " " + HeaderName + ": pass (" + what + ")"
	}
	return dec
}

// notListed defers, or in report-only mode passes and says it would have.
func (d *decider) notListed(ctx context.Context, req *Request, sender string, client netip.Addr) Decision {
	if d.cfg.ReportOnly {
		return Decision{Kind: DecisionWouldDefer, Reason: reasonNotListed, Action: ListedDunno}
	}
	d.cfg.Challenger.Deferred(ctx, Deferral{Sender: sender, Client: client, QueueID: req.QueueID, Instance: req.Instance})
	return Decision{Kind: DecisionDefer, Reason: reasonNotListed, Action: d.deferText(sender, client)}
}

// unlistable rejects, or in report-only mode passes, a sender no whitelist
// entry can ever hold (no domain, control characters, an invalid domain):
// a 451 would keep its mail waiting for a confirmation that cannot come,
// and passing it would make such addresses a way around the whitelist. The
// text says why, in printable ASCII.
func (d *decider) unlistable(err error) Decision {
	if d.cfg.ReportOnly {
		return Decision{Kind: DecisionWouldDefer, Reason: reasonUnlistable, Action: ListedDunno}
	}
	why := "not an address local@domain"
	if err != nil {
		why = err.Error()
	}
	return Decision{Kind: DecisionReject, Reason: reasonUnlistable, Action: RejectText + ": " + printableASCII(why, 150)}
}

// printableASCII replaces what is not printable ASCII by '?' and cuts s to
// at most n bytes: a policy reply is one line of SMTP text.
func printableASCII(s string, n int) string {
	b := []byte(s[:min(len(s), n)])
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// failed is the fail-open or fail-closed answer when the whitelist cannot
// be asked; report-only mode always fails open.
func (d *decider) failed(error) Decision {
	dec := Decision{Kind: DecisionError, Reason: reasonLookupError, Action: ListedDunno}
	if d.cfg.FailClosed && !d.cfg.ReportOnly {
		dec.Action = UnavailableText
	}
	return dec
}

// deferText is the 451 reply with the optional URL.
func (d *decider) deferText(sender string, client netip.Addr) string {
	if d.cfg.WhyURL == "" {
		return DeferText
	}
	u := strings.NewReplacer("{sender}", url.QueryEscape(sender), "{client}", url.QueryEscape(client.String())).Replace(d.cfg.WhyURL)
	return DeferText + "; see " + u
}

// senderAttrs logs the sender's domain and a short hash of the address;
// the full address only at debug level.
func senderAttrs(sender string) []slog.Attr {
	if sender == "" {
		return []slog.Attr{slog.String("sender_domain", ""), slog.String("sender_hash", "")}
	}
	lower := strings.ToLower(sender)
	sum := sha256.Sum256([]byte(lower))
	domain := ""
	if at := strings.LastIndexByte(lower, '@'); at >= 0 {
		domain = lower[at+1:]
	}
	return []slog.Attr{slog.String("sender_domain", domain), slog.String("sender_hash", hex.EncodeToString(sum[:6]))}
}

func codeAttrs(a Answer) []slog.Attr {
	code := ""
	if a.Listed {
		code = a.Code.String()
	}
	return []slog.Attr{slog.String("code", code), slog.Bool("cached", a.Cached)}
}
