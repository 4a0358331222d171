package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// ErrUnknownToken means a token is not one of an open, unexpired
// challenge: unknown, already used, or expired (one answer for all three).
var ErrUnknownToken = errors.New("unknown, used or expired token")

// Answer is what a confirmation or report did.
type Answer struct {
	// Challenge is the challenge answered, as the store holds it after.
	Challenge *record.Challenge
	// Spooled is true when the cluster had no quorum: the answer is stored
	// on this node and takes effect when the quorum is back.
	Spooled bool
	// Verp is, for a list report, the VERP challenge opened to the list
	// domain's postmaster; nil when none was (Reason says why).
	Verp *record.Challenge
	// Sent is true when Verp's mail went to the relay.
	Sent bool
	// Reason explains a list report without a mailed VERP challenge.
	Reason string
}

// Open returns the open, unexpired challenge for token (any case), or nil.
func (s *Service) Open(token string) *record.Challenge {
	h := HashToken(token)
	if h == "" {
		return nil
	}
	c := s.store.Challenge(h)
	if c == nil || c.Status(s.now()) != record.ChallengeOpen {
		return nil
	}
	return c
}

// ConfirmReply confirms the challenge of token because its recipient
// replied to the challenge mail (Method "reply"), and returns the
// challenge as it stands after. It returns ErrUnknownToken for a token
// that cannot act. When the cluster has no quorum the confirmation is
// spooled and the returned challenge is still open.
func (s *Service) ConfirmReply(ctx context.Context, token string) (*record.Challenge, error) {
	a, err := s.confirm(ctx, token, "reply")
	return a.Challenge, err
}

// confirm proposes challenge.confirm for token with method.
func (s *Service) confirm(ctx context.Context, token, method string) (Answer, error) {
	c := s.Lookup(ctx, token)
	if c == nil {
		return Answer{}, ErrUnknownToken
	}
	body := command.ChallengeConfirmBody{TokenHash: c.TokenHash, Method: method, By: s.store.NodeID()}
	spooled, err := s.propose(ctx, command.ChallengeConfirm, body)
	if err != nil {
		return Answer{}, fmt.Errorf("confirming challenge %s: %w", c.ID, err)
	}
	s.metrics.count("confirmed_" + method)
	s.cfg.Logger.Info("challenge confirmed", "challenge", c.ID, "method", method, "spooled", spooled)
	return Answer{Challenge: s.fresh(c), Spooled: spooled}, nil
}

// reportForgery closes the challenge of token as a forgery: no new
// challenges for the pair for SuppressFor.
func (s *Service) reportForgery(ctx context.Context, token string) (Answer, error) {
	c := s.Lookup(ctx, token)
	if c == nil {
		return Answer{}, ErrUnknownToken
	}
	body := command.ChallengeReportBody{TokenHash: c.TokenHash, Report: "forgery",
		SuppressFor: int64(s.cfg.SuppressFor / time.Second), By: s.store.NodeID()}
	spooled, err := s.propose(ctx, command.ChallengeReport, body)
	if err != nil {
		return Answer{}, fmt.Errorf("reporting challenge %s as forged: %w", c.ID, err)
	}
	s.metrics.count(countForgery)
	s.cfg.Logger.Info("challenge reported as forgery", "challenge", c.ID, "spooled", spooled)
	return Answer{Challenge: s.fresh(c), Spooled: spooled}, nil
}

// reportList closes the pair challenge of token as a list server and, in
// the same batch, opens a VERP challenge to postmaster@<sender's domain>
// for the same entity, then mails it. When the VERP challenge cannot be
// opened (one is open, the domain is listed, a limit, no quorum) the
// report is taken alone and Reason says why.
func (s *Service) reportList(ctx context.Context, token string) (Answer, error) {
	c := s.Lookup(ctx, token)
	if c == nil || c.Kind != record.ChallengePair {
		return Answer{}, ErrUnknownToken
	}
	report := command.ChallengeReportBody{TokenHash: c.TokenHash, Report: "list", By: s.store.NodeID()}
	domain := c.Sender[strings.LastIndexByte(c.Sender, '@')+1:]
	open := command.ChallengeOpenBody{Kind: string(record.ChallengeVerp), Sender: "postmaster@" + domain,
		Domain: domain, Entity: c.Entity, By: s.store.NodeID()}
	vtoken, batch, err := s.listBatch(report, &open)
	if err != nil {
		return Answer{}, err
	}
	var out Answer
	res, err := s.apply(ctx, batch)
	rj := batchRejection(res)
	switch {
	case err == nil && rj == nil:
		out.Verp = s.store.ChallengeByID(open.ID)
		if out.Verp != nil {
			o := s.send(ctx, out.Verp, vtoken)
			s.metrics.count(string(o.Result))
			out.Verp, out.Sent, out.Reason = o.Challenge, o.Result == Sent, o.Reason
		}
	case err == nil && rj.Index == 0:
		return Answer{}, ErrUnknownToken // the token acted or expired meanwhile
	default:
		if err != nil {
			out.Reason = "the postmaster was not asked: " + err.Error()
		} else {
			out.Reason = "the postmaster was not asked: " + rj.Message
		}
		if out.Spooled, err = s.propose(ctx, command.ChallengeReport, report); err != nil {
			return Answer{}, fmt.Errorf("reporting challenge %s as a list: %w", c.ID, err)
		}
	}
	s.metrics.count(countList)
	s.cfg.Logger.Info("challenge reported as list server", "challenge", c.ID, "verp", challengeID(out.Verp), "reason", out.Reason)
	out.Challenge = s.fresh(c)
	return out, nil
}

// listBatch builds the batch of a list report and a VERP challenge open.
func (s *Service) listBatch(report command.ChallengeReportBody, open *command.ChallengeOpenBody) (string, *command.Envelope, error) {
	vtoken, openEnv, err := s.openEnvelope(open)
	if err != nil {
		return "", nil, err
	}
	reportEnv, err := command.New(command.ChallengeReport, s.now(), "", report)
	if err != nil {
		return "", nil, err
	}
	batch, err := command.New(command.Batch, s.now(), open.ID, command.BatchBody{Commands: []command.Envelope{*reportEnv, *openEnv}})
	return vtoken, batch, err
}

// batchRejection returns the first rejection of a batch result, with its
// Index set, or nil.
func batchRejection(res command.Result) *command.Rejection {
	for i, sub := range res.Results {
		if sub.Err != nil {
			rj := *sub.Err
			rj.Index = i
			return &rj
		}
	}
	return res.Err
}

// propose applies a confirmation or report with a fresh request ID, through
// the spool when the store has one. A NotFound rejection is ErrUnknownToken
// (the token acted or expired meanwhile).
func (s *Service) propose(ctx context.Context, t command.Type, body any) (spooled bool, err error) {
	id, err := newID()
	if err != nil {
		return false, err
	}
	env, err := command.New(t, s.now(), id, body)
	if err != nil {
		return false, err
	}
	res, spooled, err := s.applyDurable(ctx, env)
	switch {
	case err != nil:
		return false, err
	case res.Err != nil && res.Err.Code == command.NotFound:
		return false, ErrUnknownToken
	case res.Err != nil:
		return false, res.Err
	}
	return spooled, nil
}

// fresh returns c as the store holds it now.
func (s *Service) fresh(c *record.Challenge) *record.Challenge {
	if n := s.store.ChallengeByID(c.ID); n != nil {
		return n
	}
	return c
}
