package command

// The verification commands (envelope version 3).
const (
	// ChallengeOpen opens a challenge. The state machine refuses it, in
	// this order, when the IP belongs to no entity (NotFound), when the ID
	// or token hash is taken (Conflict), when RequireRegistered is set and
	// the entity is neither registered nor a group (Refused), when the
	// pair (or the sender's domain, as a domain-wide pair or a VERP source)
	// or the VERP source is already listed (Conflict, "already listed"),
	// when an open, unexpired challenge exists for the same Kind, Sender,
	// Entity and Domain (Conflict, "open challenge <ID> exists") unless it
	// is replaceable (see ReplaceUnsentAfter), when the
	// pair is suppressed by a forgery report (Refused), or when a rate
	// limit is reached (Limited, with Rejection.Limit naming it). Limits
	// are checked in the order sender, domain_relay, domain, relay and
	// count successful opens only (a refused open counts nowhere), in
	// windows of command time: fixed ones, or sliding ones when
	// ChallengeLimits.Sliding is set, from which a ChallengeConfirm takes
	// its challenge back out while they still hold its bucket.
	ChallengeOpen Type = "challenge.open"
	// ChallengeSent records that the challenge mail was handed to the relay
	// (or why it failed).
	ChallengeSent Type = "challenge.sent"
	// ChallengeConfirm confirms an open, unexpired challenge by its token
	// hash and, in the same step, writes the pair (or VERP source) it is
	// about. A token acts once: a second confirm is NotFound.
	ChallengeConfirm Type = "challenge.confirm"
	// ChallengeReport closes an open challenge as a forgery (suppressing
	// new challenges for the same sender and entity until Time+SuppressFor)
	// or as a mailing-list server. A list report is proposed in a Batch
	// with the ChallengeOpen of the VERP challenge to the list domain's
	// postmaster.
	ChallengeReport Type = "challenge.report"
)

// More rejection codes (version 3).
const (
	// Refused: policy forbids the command (unregistered relay, suppressed
	// pair) (HTTP 403 or 422 by context).
	Refused Code = "refused"
	// Limited: a rate limit was reached (HTTP 429).
	Limited Code = "limited"
)

// ChallengeOpenBody is the body of ChallengeOpen.
type ChallengeOpenBody struct {
	// ID is the new challenge's ID, chosen by the proposer (random).
	ID string `json:"id"`
	// Kind is "pair" or "verp" (record.ChallengeKind).
	Kind string `json:"kind"`
	// Sender is the normalised address to mail: the envelope sender, or
	// postmaster@Domain for a VERP challenge.
	Sender string `json:"sender"`
	// Domain is the list domain of a VERP challenge.
	Domain string `json:"domain,omitempty"`
	// Entity names the relay entity; or IP, resolved by longest-prefix
	// match at apply time (NotFound when no entity has it: a challenge
	// never creates an entity).
	Entity uint64 `json:"entity,omitempty"`
	IP     string `json:"ip,omitempty"`
	// TokenHash is the hex SHA-256 of the token mailed to the sender.
	TokenHash string `json:"token_hash"`
	// TTL is the token's lifetime in seconds from the envelope's Time.
	TTL int64 `json:"ttl"`
	// RequireRegistered refuses the challenge unless the entity is a
	// registered relay or a group.
	RequireRegistered bool `json:"require_registered,omitempty"`
	// Limits are the rate limits to enforce (zero fields: no limit).
	Limits ChallengeLimits `json:"limits"`
	// ReplaceUnsentAfter, when positive, lets this open replace the open
	// challenge for the same key if that one's mail was never sent (Sent
	// is 0) and it was created at least this many seconds before the
	// envelope's Time: the old challenge becomes "superseded", its token
	// stops acting, and this one counts against the limits like any open.
	// Zero never replaces. It travels in the command, not as a constant
	// of the state machine, so every replica decides alike whatever its
	// build.
	ReplaceUnsentAfter int64 `json:"replace_unsent_after,omitempty"`
	// By names the requester (API token name).
	By string `json:"by,omitempty"`
}

// ChallengeLimits caps how many challenges may be opened per Window
// seconds of command time: per sender address (PerSender, through all
// relays), per sender domain through one relay entity (PerDomainRelay),
// per sender domain through all relays (PerDomain, a ceiling far above
// PerDomainRelay) and per relay entity (PerEntity). Zero is no limit.
//
// Without Sliding (the version-3 meaning) the windows are fixed:
// [k*Window, (k+1)*Window), so a limit reached stays reached until the
// window ends. With Sliding, the count at time t is the opens of the
// current fixed window plus those of the previous one weighted by the
// part of it still within Window seconds of t (integer arithmetic,
// rounded up): an attack's effect fades as it stops instead of lasting
// to the next boundary, and a burst just before a boundary still counts
// after it.
type ChallengeLimits struct {
	Window         int64 `json:"window"`
	PerSender      int   `json:"per_sender,omitempty"`
	PerDomain      int   `json:"per_domain,omitempty"`
	PerEntity      int   `json:"per_entity,omitempty"`
	PerDomainRelay int   `json:"per_domain_relay,omitempty"`
	Sliding        bool  `json:"sliding,omitempty"`
}

// The limits of ChallengeLimits, as Rejection.Limit names them.
const (
	LimitSender      = "sender"
	LimitDomainRelay = "domain_relay"
	LimitDomain      = "domain"
	LimitRelay       = "relay"
)

// MaxSlidingWindow is the longest Window of sliding limits (30 days).
const MaxSlidingWindow = 30 * 24 * 3600

// newSemantics reports whether l needs version 4: a version-3 replica
// ignores PerDomainRelay and Sliding and would decide differently.
func (l *ChallengeLimits) newSemantics() bool { return l.Sliding || l.PerDomainRelay != 0 }

// ChallengeSentBody is the body of ChallengeSent.
type ChallengeSentBody struct {
	// ID is the challenge.
	ID string `json:"id"`
	// Error is empty when the relay accepted the mail.
	Error string `json:"error,omitempty"`
}

// ChallengeConfirmBody is the body of ChallengeConfirm.
type ChallengeConfirmBody struct {
	// TokenHash is the hex SHA-256 of the token presented.
	TokenHash string `json:"token_hash"`
	// Method is how the sender confirmed: "link" or "reply".
	Method string `json:"method"`
	// By names the node that took the confirmation.
	By string `json:"by,omitempty"`
}

// ChallengeReportBody is the body of ChallengeReport.
type ChallengeReportBody struct {
	// TokenHash is the hex SHA-256 of the token presented.
	TokenHash string `json:"token_hash"`
	// Report is "forgery" or "list".
	Report string `json:"report"`
	// SuppressFor is, for a forgery, how many seconds new challenges for
	// the same sender and entity are refused.
	SuppressFor int64 `json:"suppress_for,omitempty"`
	// By names the node that took the report.
	By string `json:"by,omitempty"`
}

func init() {
	register(Kind{Type: ChallengeOpen, Since: 3, Version: openVersion, Body: bodyOf[ChallengeOpenBody]()})
	register(Kind{Type: ChallengeSent, Since: 3, Body: bodyOf[ChallengeSentBody]()})
	register(Kind{Type: ChallengeConfirm, Since: 3, Body: bodyOf[ChallengeConfirmBody](), Spoolable: true,
		Summary: summaryOf(func(b *ChallengeConfirmBody) string {
			return "confirmation by " + b.Method + " of token " + short(b.TokenHash)
		})})
	register(Kind{Type: ChallengeReport, Since: 3, Body: bodyOf[ChallengeReportBody](), Spoolable: true,
		Summary: summaryOf(func(b *ChallengeReportBody) string {
			return b.Report + " report on token " + short(b.TokenHash)
		})})
}

// short is a token hash's first 12 characters, for a summary.
func short(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
