package record

// ChallengeKind says what a challenge, once confirmed, adds.
type ChallengeKind string

// Challenge kinds.
const (
	// ChallengePair confirms a sender/relay pair (Sender through Entity).
	ChallengePair ChallengeKind = "pair"
	// ChallengeVerp confirms a VERP source: Domain's list server at Entity;
	// the mail goes to Sender, the list domain's postmaster.
	ChallengeVerp ChallengeKind = "verp"
)

// ChallengeState is where a challenge is in its life.
type ChallengeState string

// Challenge states. Open is the only state a token can act on; Expired is
// never stored: an Open challenge past Expires reads as expired.
const (
	// ChallengeOpen waits for the sender's answer.
	ChallengeOpen ChallengeState = "open"
	// ChallengeConfirmed: the sender confirmed; the pair (or VERP source)
	// was written by the same command.
	ChallengeConfirmed ChallengeState = "confirmed"
	// ChallengeForged: the recipient of the challenge said they did not
	// send the mail; new challenges for the pair are suppressed for a while.
	ChallengeForged ChallengeState = "forged"
	// ChallengeList: the recipient said the relay is a mailing-list server;
	// a VERP challenge to the list domain's postmaster was opened instead.
	ChallengeList ChallengeState = "list"
	// ChallengeSuperseded: the challenge mail was never sent (its node
	// crashed before sending, or the send failed and the node holding the
	// token restarted), and a later open for the same key replaced it with
	// a fresh token. Its token no longer acts; it stays listed so the API
	// shows why the sender got a second mail.
	ChallengeSuperseded ChallengeState = "superseded"
	// ChallengeExpired is reported for an open challenge past its Expires.
	ChallengeExpired ChallengeState = "expired"
)

// Challenge is one verification request mailed to a sender. It is
// replicated, so its token is verifiable on every node. Only the SHA-256 of
// the token is stored.
type Challenge struct {
	// ID names the challenge in the API and logs (random, not secret).
	ID string `json:"id"`
	// Kind is what a confirmation adds.
	Kind ChallengeKind `json:"kind"`
	// Sender is the normalised address the challenge is mailed to: the
	// envelope sender for a pair challenge, postmaster@Domain for a VERP one.
	Sender string `json:"sender"`
	// Domain is the list domain of a VERP challenge; empty for a pair.
	Domain string `json:"domain,omitempty"`
	// Entity is the relay entity the pair or VERP source will belong to.
	Entity uint64 `json:"entity"`
	// IP is the relay address the challenge was requested for.
	IP string `json:"ip,omitempty"`
	// TokenHash is the hex SHA-256 of the token.
	TokenHash string `json:"-"`
	// State is the stored state; see Status for the state as of a time.
	State ChallengeState `json:"state"`
	// Created and Expires are Unix seconds (command time).
	Created int64 `json:"created"`
	Expires int64 `json:"expires"`
	// Sent is when the challenge mail was handed to the relay (0: not yet);
	// SendError is the last failure to send it.
	Sent      int64  `json:"sent,omitempty"`
	SendError string `json:"send_error,omitempty"`
	// Closed is when the state left Open; Method is how (link, reply; for
	// a superseded challenge "replaced by <ID>").
	Closed int64  `json:"closed,omitempty"`
	Method string `json:"method,omitempty"`
	// By names who requested it (token name) and who closed it.
	By       string `json:"by,omitempty"`
	ClosedBy string `json:"closed_by,omitempty"`
}

// Status is the challenge's state at Unix time now: an open challenge past
// Expires is expired.
func (c *Challenge) Status(now int64) ChallengeState {
	if c.State == ChallengeOpen && now >= c.Expires {
		return ChallengeExpired
	}
	return c.State
}

// RateCount is what one challenge rate limit counts now: the API's view of
// the replicated rate windows.
type RateCount struct {
	// Limit is sender, domain_relay, domain or relay (the names of
	// command.Rejection.Limit).
	Limit string `json:"limit"`
	// Sender is the address a sender limit counts for.
	Sender string `json:"sender,omitempty"`
	// Domain is the sender domain of a domain or domain_relay limit.
	Domain string `json:"domain,omitempty"`
	// Entity is the relay entity of a domain_relay or relay limit.
	Entity uint64 `json:"entity,omitempty"`
	// Count is how many opens the limit counts at the time asked: the
	// window's count, or for a sliding window the current bucket plus the
	// weighted previous one, as the state machine counts it.
	Count int `json:"count"`
	// Window is the window's length in seconds; Sliding says its kind.
	Window  int64 `json:"window"`
	Sliding bool  `json:"sliding"`
}
