package verify

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// Result says what a Request did.
type Result string

// Request results.
const (
	// Sent: a new challenge was opened and its mail handed to the relay.
	Sent Result = "sent"
	// Open: a challenge for the pair is already open; no mail was sent.
	Open Result = "open"
	// Listed: the pair (or the sender's domain) is already whitelisted
	// through the relay.
	Listed Result = "listed"
	// Refused: the sender may not be challenged (see Reason).
	Refused Result = "refused"
	// Limited: a rate limit was reached (Limit says which).
	Limited Result = "limited"
	// NoEntity: the relay address belongs to no relay entity.
	NoEntity Result = "no_entity"
	// SendFailed: the challenge is open but the relay did not take its
	// mail; a later Request on this node may try again after ResendAfter.
	SendFailed Result = "send_failed"
)

// Outcome is the answer to a Request.
type Outcome struct {
	// Result says what happened.
	Result Result
	// Reason explains Refused, Limited, NoEntity and SendFailed.
	Reason string
	// Limit names the rate limit that refused a Limited request: sender,
	// domain_relay, domain or relay (command.LimitSender ...).
	Limit string
	// Unchallengeable is true when Refused is about the address itself
	// (null sender, role, VERP-looking, a listed VERP domain), false when
	// it is policy (unregistered relay, forgery suppression).
	Unchallengeable bool
	// Challenge is the challenge opened or found, when there is one.
	Challenge *record.Challenge
}

// maxSendError bounds the relay error recorded in the challenge.
const maxSendError = 300

// Request asks for a challenge to sender for mail through the relay at ip,
// on behalf of by (the API token name). It never mails an address that may
// not be challenged, sends at most one mail per open challenge, and reports
// the store's rejections as outcomes; the error is for a store that cannot
// apply anything now.
func (s *Service) Request(ctx context.Context, sender string, ip netip.Addr, by string) (Outcome, error) {
	o, err := s.request(ctx, sender, ip, by)
	if err != nil {
		return o, err
	}
	s.metrics.count(string(o.Result))
	if o.Result == Limited {
		s.metrics.limited(o.Limit)
	}
	s.cfg.Logger.Info("challenge request", "outcome", o.Result, "ip", ip, "by", by,
		"challenge", challengeID(o.Challenge), "limit", o.Limit, "reason", o.Reason)
	return o, nil
}

func challengeID(c *record.Challenge) string {
	if c == nil {
		return ""
	}
	return c.ID
}

func (s *Service) request(ctx context.Context, sender string, ip netip.Addr, by string) (Outcome, error) {
	addr, reason := challengeable(sender, s.never)
	if reason != "" {
		return Outcome{Result: Refused, Reason: reason, Unchallengeable: true}, nil
	}
	if !ip.IsValid() {
		return Outcome{Result: Refused, Reason: "no relay address", Unchallengeable: true}, nil
	}
	ip = ip.Unmap()
	v := s.store.Index().Load()
	e := v.EntityOf(ip)
	if e == nil {
		return Outcome{Result: NoEntity, Reason: fmt.Sprintf("relay %s belongs to no registered relay or group", ip)}, nil
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	switch {
	case v.Pair(e.ID, []byte(addr)) != nil || v.Pair(e.ID, []byte(domain)) != nil:
		return Outcome{Result: Listed}, nil
	case v.Verp(e.ID, []byte(domain)) != nil:
		return Outcome{Result: Refused, Unchallengeable: true,
			Reason: fmt.Sprintf("%s is a VERP domain of relay %s: its return paths are never challenged", domain, e.Label())}, nil
	case !s.cfg.AllowUnregistered && !e.Registered && !e.Group:
		return Outcome{Result: Refused, Reason: fmt.Sprintf("relay %s is not registered", e.Label())}, nil
	}
	body := command.ChallengeOpenBody{Kind: string(record.ChallengePair), Sender: addr, IP: ip.String(), By: by}
	if c := s.openFor(record.ChallengePair, addr, "", e.ID); c != nil {
		return s.existing(ctx, c, body)
	}
	if sc, ok := s.store.(SuppressionChecker); ok && sc.ChallengeSuppressed(addr, e.ID, s.now()) {
		return Outcome{Result: Refused, Reason: fmt.Sprintf("challenges to %s through relay %s are suppressed after a forgery report", addr, e.Label())}, nil
	}
	return s.open(ctx, body)
}

// openFor returns the open challenge of kind for sender (and list domain)
// through entity, or nil.
func (s *Service) openFor(kind record.ChallengeKind, sender, domain string, entity uint64) *record.Challenge {
	now := s.now()
	if f, ok := s.store.(OpenFinder); ok {
		if c := f.OpenChallenge(kind, sender, domain, entity); c != nil && c.Status(now) == record.ChallengeOpen {
			return c
		}
		return nil
	}
	var found *record.Challenge
	s.store.Challenges(func(c *record.Challenge) bool {
		if c.Kind == kind && c.Sender == sender && c.Domain == domain && c.Entity == entity && c.Status(now) == record.ChallengeOpen {
			found = c
			return false
		}
		return true
	})
	return found
}

// existing answers a Request that found c open: nothing is sent, unless
// c's mail was never sent. If it failed on this node, which still holds
// the token, the same mail is tried again at most once per ResendAfter.
// If no node can send it (the proposer crashed before sending, or its node
// restarted after a failure and lost the token) and c is at least
// ResendAfter old, body is opened in its place: the state machine
// supersedes c (its token stops working) and a fresh token is mailed once.
func (s *Service) existing(ctx context.Context, c *record.Challenge, body command.ChallengeOpenBody) (Outcome, error) {
	if c.Sent != 0 {
		return Outcome{Result: Open, Challenge: c}, nil
	}
	if s.holdsUnsent(c.ID) {
		if token, ok := s.takeUnsent(c.ID); ok {
			return s.send(ctx, c, token), nil
		}
		return Outcome{Result: Open, Challenge: c}, nil
	}
	if s.now()-c.Created >= int64(ResendAfter/time.Second) {
		s.cfg.Logger.Info("replacing a challenge whose mail was never sent", "challenge", c.ID, "created", c.Created)
		return s.open(ctx, body)
	}
	return Outcome{Result: Open, Challenge: c}, nil
}

// open proposes a challenge.open with a fresh ID and token, then mails it.
// body carries Kind, Sender, Domain, Entity or IP and By.
func (s *Service) open(ctx context.Context, body command.ChallengeOpenBody) (Outcome, error) {
	token, env, err := s.openEnvelope(&body)
	if err != nil {
		return Outcome{}, err
	}
	res, err := s.apply(ctx, env)
	if err != nil {
		return Outcome{}, err
	}
	if res.Err != nil {
		return s.rejected(&body, res.Err)
	}
	c := s.store.ChallengeByID(body.ID)
	if c == nil {
		return Outcome{}, fmt.Errorf("challenge %s applied but not in the store", body.ID)
	}
	return s.send(ctx, c, token), nil
}

// openEnvelope fills body's ID, token hash, TTL, limits and policy and
// returns the token and the envelope.
func (s *Service) openEnvelope(body *command.ChallengeOpenBody) (string, *command.Envelope, error) {
	token, err := newToken()
	if err != nil {
		return "", nil, err
	}
	if body.ID, err = newID(); err != nil {
		return "", nil, err
	}
	body.TokenHash = HashToken(token)
	body.TTL = int64(s.cfg.TTL / time.Second)
	body.RequireRegistered = !s.cfg.AllowUnregistered
	body.ReplaceUnsentAfter = int64(ResendAfter / time.Second)
	l := &s.cfg.Limits
	body.Limits = command.ChallengeLimits{Window: int64(LimitWindow / time.Second), Sliding: true,
		PerSender: l.PerSender, PerDomainRelay: l.PerDomainRelay, PerDomain: l.PerDomain, PerEntity: l.PerEntity}
	env, err := command.New(command.ChallengeOpen, s.now(), body.ID, body)
	return token, env, err
}

// rejected turns the state machine's refusal of an open into an outcome.
func (s *Service) rejected(body *command.ChallengeOpenBody, rj *command.Rejection) (Outcome, error) {
	switch rj.Code {
	case command.Conflict:
		if c := s.conflicting(body); c != nil {
			return Outcome{Result: Open, Challenge: c}, nil
		}
		return Outcome{Result: Listed, Reason: rj.Message}, nil
	case command.Refused:
		return Outcome{Result: Refused, Reason: rj.Message}, nil
	case command.Limited:
		return Outcome{Result: Limited, Reason: rj.Message, Limit: rj.Limit}, nil
	case command.NotFound:
		return Outcome{Result: NoEntity, Reason: rj.Message}, nil
	}
	return Outcome{}, fmt.Errorf("opening a challenge for %s: %w", body.Sender, rj)
}

// conflicting finds the open challenge an open collided with.
func (s *Service) conflicting(body *command.ChallengeOpenBody) *record.Challenge {
	entity := body.Entity
	if entity == 0 {
		ip, err := netip.ParseAddr(body.IP)
		if err != nil {
			return nil
		}
		e := s.store.Index().Load().EntityOf(ip)
		if e == nil {
			return nil
		}
		entity = e.ID
	}
	return s.openFor(record.ChallengeKind(body.Kind), body.Sender, body.Domain, entity)
}

// send mails c with token and records the outcome in the store. Neither
// the delivery (bounded by the relay timeout) nor the record stops when
// ctx is cancelled: a caller that gives up must not cut a mail off halfway
// and leave the challenge open without it.
func (s *Service) send(ctx context.Context, c *record.Challenge, token string) Outcome {
	msg, err := s.compose(c, token)
	if err == nil {
		start := time.Now()
		err = s.deliver(context.WithoutCancel(ctx), record.Mailbox(c.Sender), msg)
		s.metrics.mailTime(time.Since(start))
	}
	body := command.ChallengeSentBody{ID: c.ID}
	if err != nil {
		body.Error = truncate(err.Error(), maxSendError)
		s.keepUnsent(c.ID, token)
		s.cfg.Logger.Warn("challenge mail not sent", "challenge", c.ID, "err", err)
	}
	s.recordSent(ctx, body)
	if fresh := s.store.ChallengeByID(c.ID); fresh != nil {
		c = fresh
	}
	if err != nil {
		return Outcome{Result: SendFailed, Reason: body.Error, Challenge: c}
	}
	return Outcome{Result: Sent, Challenge: c}
}

// recordSent proposes challenge.sent; a failure is logged, not returned.
func (s *Service) recordSent(ctx context.Context, body command.ChallengeSentBody) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	id, err := newID()
	if err != nil {
		s.cfg.Logger.Error("recording challenge mail", "challenge", body.ID, "err", err)
		return
	}
	env, err := command.New(command.ChallengeSent, s.now(), id, body)
	if err == nil {
		var res command.Result
		res, err = s.apply(ctx, env)
		if err == nil && res.Err != nil {
			err = res.Err
		}
	}
	if err != nil {
		s.cfg.Logger.Error("recording challenge mail", "challenge", body.ID, "err", err)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
