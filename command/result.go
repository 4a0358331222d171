package command

import "fmt"

// Code classifies why the state machine rejected a command. Rejections are
// deterministic: every node rejects the same command the same way.
type Code string

// Rejection codes; the admin API maps them to HTTP statuses.
const (
	// Invalid: the command's fields are malformed (HTTP 400).
	Invalid Code = "invalid"
	// NotFound: the command names a record that does not exist (HTTP 404).
	NotFound Code = "not_found"
	// Conflict: the command clashes with existing data, such as a prefix
	// owned by another entity or a duplicate group name (HTTP 409).
	Conflict Code = "conflict"
)

// Result is what applying a command returned. A nil Err means it applied.
type Result struct {
	// ID is the entity ID a command created or acted on, when it has one.
	ID uint64 `json:"id,omitempty"`
	// Created is true when the command made a new record rather than
	// refreshing one (so a replayed command reports false).
	Created bool `json:"created,omitempty"`
	// Duplicate is true when the ReqID had already been applied and the
	// command was skipped.
	Duplicate bool `json:"duplicate,omitempty"`
	// Err is the rejection, if any.
	Err *Rejection `json:"error,omitempty"`
	// Results holds one Result per command of a Batch.
	Results []Result `json:"results,omitempty"`
}

// Rejection is a deterministic refusal to apply a command.
type Rejection struct {
	// Code classifies it.
	Code Code `json:"code"`
	// Message says what was wrong, for the user.
	Message string `json:"message"`
	// Index is the position in a Batch of the command that failed.
	Index int `json:"index,omitempty"`
	// Limit names the rate limit that refused a ChallengeOpen (Limited
	// only): LimitSender, LimitDomainRelay, LimitDomain or LimitRelay.
	Limit string `json:"limit,omitempty"`
}

// Error implements error.
func (r *Rejection) Error() string { return fmt.Sprintf("%s: %s", r.Code, r.Message) }

// Reject builds a Rejection.
func Reject(code Code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Message: fmt.Sprintf(format, args...)}
}
