package verify

import (
	"bytes"
	"fmt"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
)

// listHeaders mark mail sent by list software (RFC 2369, RFC 2919).
var listHeaders = []string{"List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Owner"}

// autoReplyHeaders mark the vacation and autoresponder software that does
// not use RFC 3834.
var autoReplyHeaders = []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply", "X-Vacation"}

// automatic reports whether a reply was written by software rather than a
// person, and why. Such a reply never confirms: a vacation message answering
// a challenge mailed to a forged sender must not whitelist anyone. A
// message whose header cannot be read is an error.
func automatic(msg []byte, nullSender bool, from string) (bool, string, error) {
	if nullSender {
		return true, "null return path (bounce or auto-reply)", nil
	}
	// Only the bounce robot: a VERP challenge goes to postmaster@, whose
	// reply comes from that address.
	if local, _, _ := strings.Cut(strings.ToLower(strings.Trim(from, "<>")), "@"); local == "mailer-daemon" {
		return true, "return path is MAILER-DAEMON", nil
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return false, "", fmt.Errorf("reading the header: %w", err)
	}
	h := m.Header
	if v := h.Get("Auto-Submitted"); v != "" && headerToken(v) != "no" {
		return true, "Auto-Submitted: " + headerToken(v), nil
	}
	switch headerToken(h.Get("Precedence")) {
	case "bulk", "junk", "list", "auto_reply":
		return true, "Precedence: " + headerToken(h.Get("Precedence")), nil
	}
	for _, name := range append(listHeaders, autoReplyHeaders...) {
		if _, ok := h[textproto.CanonicalMIMEHeaderKey(name)]; ok {
			return true, name + " present", nil
		}
	}
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt == "multipart/report" {
		return true, "a delivery or disposition report (" + params["report-type"] + ")", nil
	}
	return false, "", nil
}

// headerToken is a header's first word in lower case, without comments
// and parameters ("Auto-Replied (vacation); x=1" → "auto-replied").
func headerToken(v string) string {
	v, _, _ = strings.Cut(v, ";")
	v, _, _ = strings.Cut(v, "(")
	return strings.ToLower(strings.TrimSpace(v))
}
