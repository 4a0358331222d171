package fsm

import (
	"fmt"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func init() {
	registerKind(command.ChallengeOpen, kind{apply: rejecting((*applier).challengeOpen), quiet: true})
	registerKind(command.ChallengeSent, kind{apply: rejecting((*applier).challengeSent), quiet: true})
	registerKind(command.ChallengeConfirm, kind{apply: rejecting((*applier).challengeConfirm),
		repeated: confirmRepeated})
	registerKind(command.ChallengeReport, kind{apply: rejecting((*applier).challengeReport),
		repeated: reportRepeated})
}

// badToken is the one answer for a token that is unknown, already used or
// expired, so the answer tells a guesser nothing.
const badToken = "unknown, used or expired token"

// challengeBy is the By of pairs and VERP sources a confirmation writes;
// their Method is "challenge-" plus the confirmation method.
const challengeBy = "challenge"

// challengeOpen opens a challenge; see command.ChallengeOpen for the
// refusals, which are checked in the order documented there.
func (a *applier) challengeOpen(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.ChallengeOpenBody
	if rej := decodeValid(e, &b); rej != nil {
		return command.Result{}, rej
	}
	c, rej := challengeFromBody(e, &b)
	if rej != nil {
		return command.Result{}, rej
	}
	ent, rej := a.resolve(e, b.Entity, b.IP, false)
	if rej != nil {
		return command.Result{}, rej
	}
	c.Entity = ent.ID
	if b.IP != "" {
		ip, _ := parseAddr(b.IP) // resolve parsed it
		c.IP = ip.String()
	}
	cs := a.st.ch
	if cs.get(c.ID) != nil || cs.byTokenHash(c.TokenHash) != nil {
		return command.Result{}, command.Reject(command.Conflict, "challenge %s or its token exists", c.ID)
	}
	if b.RequireRegistered && !ent.Registered && !ent.Group {
		return command.Result{}, command.Reject(command.Refused, "relay entity %d (%s) is not a registered relay or group", ent.ID, ent.Label())
	}
	if d := delegationOfMembers(a.view(), challengeRelay(c, ent)); d != nil {
		return command.Result{}, command.Reject(command.Refused, "relay %s is in %s, delegated to its postmaster's name servers: a confirmation here would not change what they answer", challengeRelayLabel(c, ent), d.Prefix)
	}
	if rej := a.listed(c); rej != nil {
		return command.Result{}, rej
	}
	open := cs.openFor(openKeyOf(c))
	if open != nil && open.Status(e.Time) == record.ChallengeOpen {
		if !unsentFor(open, b.ReplaceUnsentAfter, e.Time) {
			return command.Result{}, command.Reject(command.Conflict, "open challenge %s exists for %s via entity %d", open.ID, c.Sender, c.Entity)
		}
		old := *open
		old.State, old.Closed, old.Method, old.ClosedBy = record.ChallengeSuperseded, e.Time, "replaced by "+c.ID, b.By
		cs = cs.withChanged(&old) // published only if the open succeeds
	}
	if cs.suppressed(c.Sender, c.Entity, e.Time) {
		return command.Result{}, command.Reject(command.Refused, "challenges to %s via entity %d are suppressed after a forgery report", c.Sender, c.Entity)
	}
	windows, rej := cs.count(c, e.Time, &b.Limits)
	if rej != nil {
		return command.Result{}, rej
	}
	a.st.ch = cs.withWindows(windows).withNew(c)
	return command.Result{ID: c.Entity, Created: true}, nil
}

// unsentFor reports whether the open challenge c may be replaced at now
// under command.ChallengeOpenBody.ReplaceUnsentAfter: its mail was never
// sent and it is at least after seconds old. Zero never replaces.
func unsentFor(c *record.Challenge, after, now int64) bool {
	return after > 0 && c.Sent == 0 && now-c.Created >= after
}

// decodeValid decodes e's body into dst and checks its shape.
func decodeValid(e *command.Envelope, dst command.Validator) *command.Rejection {
	if rej := decodeBody(e, dst); rej != nil {
		return rej
	}
	if err := dst.Validate(); err != nil {
		return command.Reject(command.Invalid, "%v", err)
	}
	return nil
}

// challengeFromBody builds the open challenge a valid body describes,
// without its entity.
func challengeFromBody(e *command.Envelope, b *command.ChallengeOpenBody) (*record.Challenge, *command.Rejection) {
	sender, err := normalizeSender(e, b.Sender)
	if err != nil {
		return nil, command.Reject(command.Invalid, "%v", err)
	}
	if !strings.Contains(sender, "@") {
		return nil, command.Reject(command.Invalid, "a challenge is mailed to an address, not to domain %s", sender)
	}
	c := &record.Challenge{
		ID: b.ID, Kind: record.ChallengeKind(b.Kind), Sender: sender,
		TokenHash: strings.ToLower(b.TokenHash), State: record.ChallengeOpen,
		Created: e.Time, Expires: e.Time + b.TTL, By: b.By,
	}
	if c.Kind == record.ChallengeVerp {
		if c.Domain, err = record.NormalizeDomain(b.Domain); err != nil {
			return nil, command.Reject(command.Invalid, "%v", err)
		}
	}
	return c, nil
}

// listed rejects a challenge whose confirmation would add nothing: the
// pair (or the sender's whole domain, or the sender's domain as a VERP
// source) is listed for a pair challenge, the VERP source for a VERP one.
func (a *applier) listed(c *record.Challenge) *command.Rejection {
	v := a.view()
	if c.Kind == record.ChallengeVerp {
		if v.Verp(c.Entity, []byte(c.Domain)) != nil {
			return command.Reject(command.Conflict, "VERP source %s via entity %d is already listed", c.Domain, c.Entity)
		}
		return nil
	}
	domain := senderDomain(c.Sender)
	switch {
	case v.Pair(c.Entity, []byte(c.Sender)) != nil:
		return command.Reject(command.Conflict, "pair %s via entity %d is already listed", c.Sender, c.Entity)
	case v.Pair(c.Entity, []byte(domain)) != nil:
		return command.Reject(command.Conflict, "domain %s via entity %d is already listed", domain, c.Entity)
	case v.Verp(c.Entity, []byte(domain)) != nil:
		return command.Reject(command.Conflict, "domain %s via entity %d is already listed as a VERP source", domain, c.Entity)
	}
	return nil
}

// senderDomain returns the part of a normalised address after its last @.
func senderDomain(sender string) string { return sender[strings.LastIndexByte(sender, '@')+1:] }

// count checks c against each limit in turn (sender, domain per relay
// entity, domain, relay entity) and returns the windows with c counted, or
// Limited naming the first limit reached. A zero limit is neither checked
// nor counted; a refused open counts nowhere.
func (cs *challenges) count(c *record.Challenge, now int64, l *command.ChallengeLimits) ([]rateWindow, *command.Rejection) {
	domain := senderDomain(c.Sender)
	limits := []struct {
		max        int
		key        string
		name, what string
	}{
		{l.PerSender, senderLimitKey(c.Sender), command.LimitSender, "per sender " + c.Sender},
		{l.PerDomainRelay, domainRelayLimitKey(domain, c.Entity), command.LimitDomainRelay,
			fmt.Sprintf("per sender domain %s through relay entity %d", domain, c.Entity)},
		{l.PerDomain, domainLimitKey(domain), command.LimitDomain, "per sender domain " + domain + " through all relays"},
		{l.PerEntity, entityLimitKey(c.Entity), command.LimitRelay, fmt.Sprintf("per relay entity %d", c.Entity)},
	}
	var out []rateWindow
	for _, lim := range limits {
		if lim.max <= 0 {
			continue
		}
		seen, w := cs.window(lim.key, now, l.Window, l.Sliding)
		if seen >= lim.max {
			rj := command.Reject(command.Limited, "rate limit %s reached: %d challenges in %s", lim.what, seen, windowText(w, l))
			rj.Limit = lim.name
			return nil, rj
		}
		out = append(out, w)
	}
	return out, nil
}

// windowText says which window a limit counted in.
func windowText(w rateWindow, l *command.ChallengeLimits) string {
	if l.Sliding {
		return fmt.Sprintf("the last %d s", l.Window)
	}
	return fmt.Sprintf("this %d s window (until %d)", l.Window, w.start+w.length)
}

// challengeSent records the hand-over of the challenge mail, or its
// failure.
func (a *applier) challengeSent(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.ChallengeSentBody
	if rej := decodeValid(e, &b); rej != nil {
		return command.Result{}, rej
	}
	old := a.st.ch.get(b.ID)
	if old == nil {
		return command.Result{}, command.Reject(command.NotFound, "no challenge %s", b.ID)
	}
	c := *old
	if b.Error != "" {
		c.SendError = b.Error
	} else {
		c.Sent = e.Time
	}
	a.st.ch = a.st.ch.withChanged(&c)
	return command.Result{ID: c.Entity}, nil
}

// openByToken returns a copy of the challenge whose token has hash h if it
// is open at now, else the one NotFound answer.
func (a *applier) openByToken(h string, now int64) (*record.Challenge, *command.Rejection) {
	old := a.st.ch.byTokenHash(strings.ToLower(h))
	if old == nil || old.Status(now) != record.ChallengeOpen {
		return nil, command.Reject(command.NotFound, badToken)
	}
	c := *old
	return &c, nil
}

// challengeConfirm closes an open challenge as confirmed and writes the
// pair or VERP source it is about, in the same transaction.
func (a *applier) challengeConfirm(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.ChallengeConfirmBody
	if rej := decodeValid(e, &b); rej != nil {
		return command.Result{}, rej
	}
	c, rej := a.openByToken(b.TokenHash, e.Time)
	if rej != nil {
		return command.Result{}, rej
	}
	if a.view().Entity(c.Entity) == nil {
		return command.Result{}, command.Reject(command.NotFound, "relay entity %d of challenge %s no longer exists", c.Entity, c.ID)
	}
	c.State, c.Closed, c.Method, c.ClosedBy = record.ChallengeConfirmed, e.Time, b.Method, b.By
	created := a.putConfirmed(e, c)
	a.st.ch = a.st.ch.withChanged(c).refunded(c)
	return command.Result{ID: c.Entity, Created: created}, nil
}

// putConfirmed writes the record a confirmed challenge adds (By
// "challenge", Method "challenge-<method>"), or refreshes its Updated time
// if it exists by now, and reports whether it is new.
func (a *applier) putConfirmed(e *command.Envelope, c *record.Challenge) bool {
	v, method := a.view(), "challenge-"+c.Method
	if c.Kind == record.ChallengeVerp {
		vp := &record.Verp{Entity: c.Entity, Domain: c.Domain, By: challengeBy, Method: method}
		old := v.Verp(c.Entity, []byte(c.Domain))
		if old != nil {
			old.CopyMetaTo(&vp.Meta)
			vp.By, vp.Method = old.By, old.Method
		} else {
			vp.Created = e.Time
		}
		vp.Updated = e.Time
		a.txn.PutVerp(vp)
		return old == nil
	}
	p := &record.Pair{Entity: c.Entity, Sender: c.Sender, By: challengeBy, Method: method}
	old := v.Pair(c.Entity, []byte(c.Sender))
	if old != nil {
		old.CopyMetaTo(&p.Meta)
		p.By, p.Method = old.By, old.Method
	} else {
		p.Created = e.Time
	}
	p.Updated = e.Time
	a.txn.PutPair(p)
	return old == nil
}

// challengeReport closes an open challenge as a forgery (suppressing new
// challenges for its sender and entity) or as a mailing-list server.
func (a *applier) challengeReport(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.ChallengeReportBody
	if rej := decodeValid(e, &b); rej != nil {
		return command.Result{}, rej
	}
	c, rej := a.openByToken(b.TokenHash, e.Time)
	if rej != nil {
		return command.Result{}, rej
	}
	c.Closed, c.ClosedBy = e.Time, b.By
	cs := a.st.ch
	if b.Report == "forgery" {
		c.State = record.ChallengeForged
		if b.SuppressFor > 0 {
			cs = cs.withSuppression(c.Sender, c.Entity, e.Time+b.SuppressFor)
		}
	} else {
		c.State = record.ChallengeList
	}
	a.st.ch = cs.withChanged(c)
	return command.Result{ID: c.Entity}, nil
}
