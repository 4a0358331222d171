package command

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wlns/wlns/command/wire"
)

// Binary log entries (envelope version 7). The single writes the API makes
// (pairs, VERP sources, relays and groups, members), the seen reports
// (Touch) and the Group entries that carry them are written without JSON once every member of the
// cluster reads them (the store decides; see raftstore "Binary entries"):
// a follower's apply spent half its time decoding JSON. A binary entry
// starts with BinaryMark, never '{', so Decode tells the two forms apart
// by the first byte; JSON entries of every version still decode. The form
// is
//
//	entry = BinaryMark uvarint(V) text(type) varint(time) text(req) body
//
// with the body in its kind's BinaryBody form; a Group's body is a count
// and each command's whole entry (binary or JSON) as length-prefixed
// bytes. A command means the same in either form: the body decodes to the
// same struct (TestBinary_DecodesAsTheJSONForm).
const (
	// BinaryMark is the first byte of a binary log entry.
	BinaryMark = 0xB7
	// BinaryVersion is the envelope version of binary entries.
	BinaryVersion = 7
)

// BinaryBody is the binary form of a kind's body.
type BinaryBody struct {
	// Append appends body (the kind's body type, or a pointer to it) to w;
	// false when body is not of that type.
	Append func(w *wire.Writer, body any) bool
	// Decode reads a body from r into a new value of the type, returned
	// as a pointer.
	Decode func(r *wire.Reader) any
	// Assign copies src (the type, or a pointer to it) into dst, a pointer
	// to the type; false when either is of another type.
	Assign func(dst, src any) bool
}

// binaryOf is the BinaryBody of body type T written by app and read by dec.
func binaryOf[T any](app func(w *wire.Writer, b *T), dec func(r *wire.Reader, b *T)) *BinaryBody {
	return &BinaryBody{
		Append: func(w *wire.Writer, body any) bool {
			switch b := body.(type) {
			case T:
				app(w, &b)
			case *T:
				app(w, b)
			default:
				return false
			}
			return true
		},
		Decode: func(r *wire.Reader) any {
			b := new(T)
			dec(r, b)
			return b
		},
		Assign: func(dst, src any) bool {
			d, ok := dst.(*T)
			if !ok {
				return false
			}
			switch s := src.(type) {
			case T:
				*d = s
			case *T:
				*d = *s
			default:
				return false
			}
			return true
		},
	}
}

// typed returns the body e was built from by New or decoded from a binary
// entry, when e.Body still is what New made of it (a caller that replaced
// Body gets nil: the JSON is then the truth).
func (e *Envelope) typed() any {
	switch {
	case e.val == nil:
		return nil
	case len(e.Body) == 0 && len(e.valRaw) == 0:
		return e.val
	case len(e.Body) == len(e.valRaw) && len(e.Body) > 0 && &e.Body[0] == &e.valRaw[0]:
		return e.val
	}
	return nil
}

// EncodeBinary returns the binary log entry of e, or false when its kind
// has no binary form or a text in it is not valid UTF-8 (the JSON form
// would change such bytes; Encode keeps that form for it).
func (e *Envelope) EncodeBinary() ([]byte, bool) {
	k := kinds[e.Type]
	if k == nil || k.Binary == nil {
		return nil, false
	}
	body := e.typed()
	if body == nil {
		b := k.Body()
		if e.DecodeBody(b) != nil {
			return nil, false
		}
		body = b
	}
	w := wire.Writer{B: make([]byte, 0, 64+len(e.Body))}
	appendHeader(&w, max(BinaryVersion, e.V), e.Type, e.Time, e.ReqID)
	if !k.Binary.Append(&w, body) || w.NotUTF8 {
		return nil, false
	}
	return w.B, true
}

// appendHeader writes a binary entry's mark and envelope fields.
func appendHeader(w *wire.Writer, v int, t Type, now int64, req string) {
	w.Byte(BinaryMark)
	w.Uvarint(uint64(v))
	w.Text(string(t))
	w.Varint(now)
	w.Text(req)
}

// ErrBadBinary means a binary log entry does not decode.
var ErrBadBinary = errors.New("bad binary command")

// decodeBinary reads a binary entry (b[0] is BinaryMark).
func decodeBinary(b []byte) (*Envelope, error) {
	r := wire.NewTextReader(b[1:]) // texts as Encode would have kept them
	v := r.Uvarint()
	t := r.Bytes()
	e := &Envelope{V: int(min(v, 1<<20)), Time: r.Varint(), ReqID: r.Text()}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: envelope: %w", ErrBadBinary, err)
	}
	if v < BinaryVersion || v > Version {
		return nil, fmt.Errorf("%w: %d (this build reads binary entries of %d to %d)", ErrUnsupported, v, BinaryVersion, Version)
	}
	k := kinds[Type(t)]
	if k == nil || k.Binary == nil {
		return nil, fmt.Errorf("%w: type %q has no binary form", ErrBadBinary, t)
	}
	e.Type = k.Type
	e.val = k.Binary.Decode(r)
	if err := r.End(); err != nil {
		return nil, fmt.Errorf("%w: %s body: %w", ErrBadBinary, k.Type, err)
	}
	return e, nil
}

// jsonBody fills Body from the typed body of an envelope decoded from a
// binary entry, for a caller that needs the JSON form.
func (e *Envelope) jsonBody() error {
	if e.Body != nil || e.val == nil {
		return nil
	}
	raw, err := json.Marshal(e.val)
	if err != nil {
		return fmt.Errorf("encoding %s body: %w", e.Type, err)
	}
	e.Body, e.valRaw = raw, raw
	return nil
}
