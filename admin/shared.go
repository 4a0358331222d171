package admin

import (
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/suggest"
)

// The validation the web console shares with the API: each helper takes
// the signed-in session's token where the API takes the request's bearer
// token, and fails with the API's message (ErrorStatus).

// GroupBody validates a group create (old nil) or replacement for tok
// against view v, exactly as POST and PUT /v1/groups do.
func GroupBody(v *index.View, tok *record.Token, req *GroupRequest, old *record.Entity) (command.EntityBody, error) {
	return groupBody(v, &caller{tok: tok}, req, old)
}

// RelayBody validates a relay registration for tok against view v, as
// POST /v1/relays does.
func RelayBody(v *index.View, tok *record.Token, req *RelayRequest) (command.EntityBody, error) {
	return relayBody(v, &caller{tok: tok}, req)
}

// RelayUpdateBody validates the replacement of lone relay e's fields for
// tok, as PUT /v1/relays/{id} does.
func RelayUpdateBody(tok *record.Token, e *record.Entity, req *RelayUpdate) (command.EntityBody, error) {
	return relayUpdateBody(&caller{tok: tok}, e, req)
}

// DelegationBody validates a delegation for tok, as POST /v1/delegations
// does; apex is the zone's apex (empty: names are not checked against
// it).
func DelegationBody(tok *record.Token, apex string, req *DelegationRequest) (command.DelegationBody, error) {
	return delegationBody(&caller{tok: tok}, apex, req)
}

// ErrorStatus returns the HTTP status and message the API answers err
// with.
func ErrorStatus(err error) (int, string) { return statusOf(err) }

// SuggestionVisible reports whether tok may see and accept suggestion s,
// as GET /v1/suggestions decides: an admin any, a postmaster those whose
// relays all lie inside its prefixes.
func SuggestionVisible(tok *record.Token, s *suggest.Suggestion) bool {
	return (&caller{tok: tok}).visible(s)
}

// AcceptCommands builds the batch that accepts suggestion s with req, the
// one POST /v1/suggestions/{id}/accept proposes: it fails with the API's
// message (ErrorStatus) when s is stale or req is not valid. The caller
// checks SuggestionVisible first.
func AcceptCommands(v *index.View, s *suggest.Suggestion, req *AcceptRequest, now int64) ([]command.Envelope, error) {
	return acceptCommands(v, s, req, now)
}
