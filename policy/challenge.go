package policy

import (
	"context"
	"net/netip"
)

// Deferral is a request the service answered with a 451 because the sender
// is not listed for the client.
type Deferral struct {
	// Sender is the normalised envelope sender.
	Sender string
	// Client is the connecting relay.
	Client netip.Addr
	// QueueID and Instance identify the message in Postfix's logs.
	QueueID, Instance string
}

// Challenger is where the verification flow plugs in: on every deferral
// (never in report-only mode) the service calls Deferred, and the
// implementation asks wlns, through an authenticated API call, whether to
// mail the sender a challenge. wlns decides (registered relay, one open
// challenge per pair, rate limits); the policy service never mails anyone.
// Deferred is called before the reply is sent and must return quickly. It
// is called for every deferred request, so once per recipient of a message
// (Instance ties them together): the implementation must not turn that into
// several challenges. It is not called for senders that cannot be valid
// whitelist entries (no domain, bytes DNS cannot carry).
//
// APIChallenger is the implementation (`wlns policy --challenge-api`);
// without it the default does nothing and no sender is ever challenged.
type Challenger interface {
	Deferred(ctx context.Context, d Deferral)
}

// noChallenges is the default Challenger: it asks for no challenge.
type noChallenges struct{}

func (noChallenges) Deferred(context.Context, Deferral) {}
