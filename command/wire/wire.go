// Package wire is the compact binary encoding that binary log entries are
// written and read with: uvarints, varints, single bytes and
// length-prefixed strings, appended to a byte slice, and a Reader whose
// first error sticks so a decoder reads every field and checks once. A
// length or count is bounded by the bytes left before anything is
// allocated for it, so a forged entry cannot make a reader reserve more
// than its own size. It imports only the standard library.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Writer appends encoded fields to B. The zero value is ready to use.
type Writer struct {
	// B is what was written so far.
	B []byte
	// NotUTF8 is set once a Text was not valid UTF-8 (a caller that must
	// stay equivalent to a JSON form, which would replace such bytes,
	// falls back to it).
	NotUTF8 bool
}

// Uvarint appends x as a uvarint.
func (w *Writer) Uvarint(x uint64) { w.B = binary.AppendUvarint(w.B, x) }

// Varint appends x as a zig-zag varint.
func (w *Writer) Varint(x int64) { w.B = binary.AppendVarint(w.B, x) }

// Byte appends c.
func (w *Writer) Byte(c byte) { w.B = append(w.B, c) }

// Bytes appends b with its length before it.
func (w *Writer) Bytes(b []byte) {
	w.Uvarint(uint64(len(b)))
	w.B = append(w.B, b...)
}

// Text appends s with its length before it, noting in NotUTF8 whether it
// is not valid UTF-8.
func (w *Writer) Text(s string) {
	w.NotUTF8 = w.NotUTF8 || !utf8.ValidString(s)
	w.Uvarint(uint64(len(s)))
	w.B = append(w.B, s...)
}

// Texts appends a count and each of ss as a Text.
func (w *Writer) Texts(ss []string) {
	w.Uvarint(uint64(len(ss)))
	for _, s := range ss {
		w.Text(s)
	}
}

// ErrShort means the bytes ended before the fields did, or a length or
// count was more than the bytes left could hold.
var ErrShort = errors.New("shorter than its fields")

// Reader reads what a Writer wrote. The first error sticks; later reads
// return zero values.
type Reader struct {
	b   []byte
	err error
	// utf8 refuses a Text that is not valid UTF-8 (NewTextReader).
	utf8 bool
}

// NewReader reads b. Strings it returns are copies; Bytes are not.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// NewTextReader is NewReader whose Text refuses a string that is not valid
// UTF-8 (ErrNotUTF8): what a Writer writes only where a JSON form, which
// would replace such bytes, says the same.
func NewTextReader(b []byte) *Reader { return &Reader{b: b, utf8: true} }

// ErrNotUTF8 means a Text of a NewTextReader was not valid UTF-8.
var ErrNotUTF8 = errors.New("text is not valid UTF-8")

// Err is the first error met.
func (r *Reader) Err() error { return r.err }

// Fail records err as the reader's error unless one is recorded already,
// and stops the reading.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

// Left is how many bytes are not read yet.
func (r *Reader) Left() int { return len(r.b) }

// Uvarint reads a uvarint.
func (r *Reader) Uvarint() uint64 { return varint(r, binary.Uvarint) }

// Varint reads a zig-zag varint.
func (r *Reader) Varint() int64 { return varint(r, binary.Varint) }

// varint reads one number with read (binary.Uvarint or binary.Varint).
func varint[T uint64 | int64](r *Reader, read func([]byte) (T, int)) T {
	x, n := read(r.b)
	if n <= 0 {
		r.Fail(ErrShort)
		return 0
	}
	r.b = r.b[n:]
	return x
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if len(r.b) < 1 {
		r.Fail(ErrShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Bytes reads a length-prefixed byte string, without copying it.
func (r *Reader) Bytes() []byte {
	n := r.Uvarint()
	if n > uint64(len(r.b)) {
		r.Fail(ErrShort)
		return nil
	}
	return r.Fixed(int(n))
}

// Fixed reads n bytes, without copying them.
func (r *Reader) Fixed(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.Fail(ErrShort)
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// Text reads a length-prefixed string (a copy).
func (r *Reader) Text() string {
	b := r.Bytes()
	if len(b) == 0 {
		return ""
	}
	if r.utf8 && !utf8.Valid(b) {
		r.Fail(ErrNotUTF8)
		return ""
	}
	return string(b)
}

// Count reads a count of items that take at least size bytes each (size
// ≥ 1), refused when the bytes left cannot hold them.
func (r *Reader) Count(size int) int {
	n := r.Uvarint()
	if n > uint64(len(r.b)/max(size, 1)) {
		r.Fail(ErrShort)
		return 0
	}
	return int(n)
}

// Texts reads what Writer.Texts wrote (nil for none).
func (r *Reader) Texts() []string {
	n := r.Count(1)
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, r.Text())
	}
	return out
}

// End returns the first error, or one when bytes are left unread.
func (r *Reader) End() error {
	if r.err == nil && len(r.b) != 0 {
		r.Fail(fmt.Errorf("%d unread bytes at the end", len(r.b)))
	}
	return r.err
}
