package command

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/wlns/wlns/command/wire"
)

// importBinary is the binary form of an Import's body (binary.go): By,
// Method, then the record list as it is (no base64, no JSON scan of it on
// any node). Imports are written so once every member reads binary
// entries, like the single writes.
var importBinary = binaryOf(func(w *wire.Writer, b *ImportBody) {
	w.Text(b.By)
	w.Text(b.Method)
	w.Bytes(b.Records)
}, func(r *wire.Reader, b *ImportBody) {
	b.By, b.Method, b.Records = r.Text(), r.Text(), r.Bytes()
})

// ImportBodyOf returns the body of Import e: the one it was built from
// (New) or read from a binary entry, else its JSON body decoded
// (DecodeImportBody).
func ImportBodyOf(e *Envelope) (ImportBody, error) {
	switch b := e.typed().(type) {
	case ImportBody:
		return b, nil
	case *ImportBody:
		return *b, nil
	}
	return DecodeImportBody(e.Body)
}

// DecodeImportBody decodes an Import's JSON body. The body New writes,
// {"by":…,"method":…,"records":"<base64>"} with plain strings, is read
// without encoding/json, whose scan of the whole record list, twice (check,
// then decode), cost about a tenth of an import's apply; any other JSON
// takes encoding/json, with the same outcome.
func DecodeImportBody(raw json.RawMessage) (ImportBody, error) {
	if b, ok := fastImportBody(raw); ok {
		return b, nil
	}
	var b ImportBody
	if err := json.Unmarshal(raw, &b); err != nil {
		return ImportBody{}, fmt.Errorf("decoding %s body: %w", Import, err)
	}
	return b, nil
}

// fastImportBody reads an object of the fields by, method and records,
// each at most once, as strings without escapes, with no space between
// tokens; ok is false for anything else.
func fastImportBody(raw []byte) (b ImportBody, ok bool) {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return ImportBody{}, false
	}
	rest := raw[1 : len(raw)-1]
	var seen [3]bool
	for len(rest) > 0 {
		key, r, ok := plainString(rest)
		if !ok || len(r) == 0 || r[0] != ':' {
			return ImportBody{}, false
		}
		val, r, ok := plainString(r[1:])
		if !ok {
			return ImportBody{}, false
		}
		switch k := string(key); {
		case k == "by" && !seen[0]:
			b.By, seen[0] = string(val), true
		case k == "method" && !seen[1]:
			b.Method, seen[1] = string(val), true
		case k == "records" && !seen[2]:
			recs := make([]byte, base64.StdEncoding.DecodedLen(len(val)))
			n, err := base64.StdEncoding.Strict().Decode(recs, val)
			if err != nil {
				return ImportBody{}, false
			}
			b.Records, seen[2] = recs[:n], true
		default:
			return ImportBody{}, false
		}
		if len(r) > 0 {
			if r[0] != ',' || len(r) == 1 {
				return ImportBody{}, false
			}
			r = r[1:]
		}
		rest = r
	}
	return b, seen[2]
}

// plainString reads a JSON string at the start of b that has no escapes
// and no control or non-ASCII bytes, and returns its content and what
// follows.
func plainString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return nil, nil, false
	}
	s = b[1 : 1+end]
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return nil, nil, false
		}
	}
	return s, b[2+end:], true
}
