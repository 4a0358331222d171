package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/wlns/wlns/command"
)

// apiError is an error with the HTTP status it is answered with.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// errorf builds an apiError.
func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// statusOf returns the HTTP status and message for err.
func statusOf(err error) (int, string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.msg
	}
	var rj *command.Rejection
	if errors.As(err, &rj) {
		return rejectionStatus(rj.Code), rj.Message
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mb.Limit)
	}
	return http.StatusInternalServerError, "internal error"
}

// RejectionStatus is the HTTP status a state machine rejection is answered
// with (the web console answers its pages with the same).
func RejectionStatus(c command.Code) int { return rejectionStatus(c) }

// rejectionStatus maps a state machine rejection to an HTTP status.
func rejectionStatus(c command.Code) int {
	switch c {
	case command.Invalid:
		return http.StatusBadRequest
	case command.NotFound:
		return http.StatusNotFound
	case command.Conflict:
		return http.StatusConflict
	case command.Refused:
		return http.StatusForbidden
	case command.Limited:
		return http.StatusTooManyRequests
	default:
		return http.StatusUnprocessableEntity
	}
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing left to tell it
}

// writeError answers with the JSON error shape.
func writeError(w http.ResponseWriter, status int, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wlns"`)
	}
	writeJSON(w, status, errorBody{Error: msg})
}

// decodeJSON reads one JSON object of at most limit bytes into dst,
// refusing unknown fields, trailing data and bytes that are not UTF-8.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return badJSON(err)
	}
	return decodeObject(b, dst)
}

// decodeObject decodes the one JSON object in b into dst, refusing unknown
// fields and trailing data. JSON is UTF-8 (RFC 8259), and Go's decoder
// would turn each invalid byte into U+FFFD: a sender stored with it is not
// the address the client meant, so such a body is refused whole.
func decodeObject(b []byte, dst any) error {
	if !utf8.Valid(b) {
		at := invalidUTF8At(b)
		return errorf(http.StatusBadRequest, "bad JSON: not valid UTF-8 at byte %d, after %q", at, b[max(0, at-24):at])
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badJSON(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "bad JSON: data after the object")
	}
	return nil
}

// invalidUTF8At returns the offset of the first byte of b that does not
// start a valid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func badJSON(err error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return err
	}
	if errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "bad JSON: empty body")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return errorf(http.StatusBadRequest, "bad JSON: %s", msg)
}
