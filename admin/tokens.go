package admin

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// TokenRequest is the body of POST /v1/tokens.
type TokenRequest struct {
	// Name identifies the token; it is recorded as the By of its writes.
	Name string `json:"name"`
	// Role is "admin", "postmaster", "read" or "mta".
	Role record.Role `json:"role"`
	// Prefixes scope a postmaster token; required for that role only.
	Prefixes []string `json:"prefixes,omitempty"`
}

// TokenInfo describes a token without its secret or hash.
type TokenInfo struct {
	// Name identifies the token.
	Name string `json:"name"`
	// Role is what the token may do.
	Role record.Role `json:"role"`
	// Prefixes scope a postmaster token.
	Prefixes []netip.Prefix `json:"prefixes,omitempty"`
	// Created is when the token was made, Unix seconds.
	Created int64 `json:"created,omitempty"`
	// Secret is returned once, when the token is created.
	Secret string `json:"secret,omitempty"`
}

// TokenList is the answer of GET /v1/tokens.
type TokenList struct {
	// Tokens are sorted by name.
	Tokens []TokenInfo `json:"tokens"`
}

// tokenBody validates req.
func tokenBody(req *TokenRequest) (command.TokenBody, error) {
	name, err := normalizeTokenName(req.Name)
	if err != nil {
		return command.TokenBody{}, err
	}
	switch req.Role {
	case record.RoleAdmin, record.RoleRead, record.RoleMTA:
		if len(req.Prefixes) > 0 {
			return command.TokenBody{}, errorf(http.StatusBadRequest, "prefixes apply to postmaster tokens only")
		}
	case record.RolePostmaster:
		if len(req.Prefixes) == 0 {
			return command.TokenBody{}, errorf(http.StatusBadRequest, "a postmaster token needs prefixes")
		}
	default:
		return command.TokenBody{}, errorf(http.StatusBadRequest, "invalid role %q: want admin, postmaster, read or mta", req.Role)
	}
	_, prefixes, err := parsePrefixes(req.Prefixes)
	if err != nil {
		return command.TokenBody{}, err
	}
	return command.TokenBody{Name: name, Role: string(req.Role), Prefixes: prefixes}, nil
}

func normalizeTokenName(s string) (string, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "" || len(name) > 64 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789.-_@") != "" {
		return "", errorf(http.StatusBadRequest,
			"invalid token name %q: want 1 to 64 lower-case letters, digits, '.', '-', '_' or '@'", s)
	}
	return name, nil
}

func (a *API) tokenByName(name string) *record.Token {
	for _, t := range a.store.Tokens() {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var req TokenRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	body, err := tokenBody(&req)
	if err != nil {
		return err
	}
	if a.tokenByName(body.Name) != nil {
		return errorf(http.StatusConflict, "token %q exists: delete it first", body.Name)
	}
	secret, err := NewSecret()
	if err != nil {
		return err
	}
	body.Hash = HashSecret(secret)
	if _, err := a.propose(r.Context(), r, command.TokenPut, body); err != nil {
		return err
	}
	info := TokenInfo{Name: body.Name, Role: req.Role, Secret: secret}
	if t := a.store.Token(body.Hash); t != nil {
		info.Prefixes, info.Created = t.Prefixes, t.Created
	}
	writeJSON(w, http.StatusCreated, info)
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, _ *http.Request, _ *caller) error {
	out := []TokenInfo{}
	for _, t := range a.store.Tokens() {
		out = append(out, TokenInfo{Name: t.Name, Role: t.Role, Prefixes: t.Prefixes, Created: t.Created})
	}
	slices.SortFunc(out, func(a, b TokenInfo) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, TokenList{Tokens: out})
	return nil
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, _ *caller) error {
	name := strings.ToLower(r.PathValue("name"))
	if a.tokenByName(name) == nil {
		return errorf(http.StatusNotFound, "no token %q", name)
	}
	if _, err := a.propose(r.Context(), r, command.TokenDelete, command.TokenBody{Name: name}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
