package fsm

import (
	"encoding/hex"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

func init() {
	registerKind(command.TokenPut, kind{apply: rejecting((*applier).tokenPut), quiet: true})
	registerKind(command.TokenDelete, kind{apply: rejecting((*applier).tokenDelete), quiet: true})
}

// tokenPut adds or replaces an API token.
func (a *applier) tokenPut(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.TokenBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	tok, rej := tokenFromBody(&b)
	if rej != nil {
		return command.Result{}, rej
	}
	if other := a.st.tokens.byHash[tok.Hash]; other != nil && other.Name != tok.Name {
		return command.Result{}, command.Reject(command.Conflict, "token %q has the same secret", other.Name)
	}
	old := a.st.tokens.byName[tok.Name]
	tok.Created = e.Time
	if old != nil {
		tok.Created = old.Created
	}
	a.st.tokens = a.st.tokens.with(tok)
	return command.Result{Created: old == nil}, nil
}

// tokenFromBody validates a TokenBody.
func tokenFromBody(b *command.TokenBody) (*record.Token, *command.Rejection) {
	name := strings.TrimSpace(b.Name)
	if name == "" {
		return nil, command.Reject(command.Invalid, "a token needs a name")
	}
	hash := strings.ToLower(b.Hash)
	if raw, err := hex.DecodeString(hash); err != nil || len(raw) != 32 {
		return nil, command.Reject(command.Invalid, "token hash must be the hex SHA-256 of the secret (64 hex digits)")
	}
	prefixes, rej := parsePrefixes(b.Prefixes)
	if rej != nil {
		return nil, rej
	}
	role := record.Role(b.Role)
	switch {
	case role != record.RoleAdmin && role != record.RolePostmaster && role != record.RoleRead && role != record.RoleMTA:
		return nil, command.Reject(command.Invalid, "unknown token role %q (admin, postmaster, mta, read)", b.Role)
	case role == record.RolePostmaster && len(prefixes) == 0:
		return nil, command.Reject(command.Invalid, "a postmaster token needs prefixes")
	case role != record.RolePostmaster && len(prefixes) > 0:
		return nil, command.Reject(command.Invalid, "only a postmaster token has prefixes")
	}
	return &record.Token{Name: name, Hash: hash, Role: role, Prefixes: prefixes}, nil
}

// tokenDelete revokes a token.
func (a *applier) tokenDelete(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.TokenBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	name := strings.TrimSpace(b.Name)
	if a.st.tokens.byName[name] == nil {
		return command.Result{}, command.Reject(command.NotFound, "no token %q", name)
	}
	a.st.tokens = a.st.tokens.without(name)
	return command.Result{}, nil
}
