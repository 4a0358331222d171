package admin

import "strconv"

// parseLineFast reads the common shape of an import line — one flat JSON
// object whose values are plain ASCII strings without escapes, unsigned
// integers or booleans, of ImportLine's fields by their exact names —
// without encoding/json, which cost more per line than applying it. It
// reports false for anything else (escapes, non-ASCII, arrays, null,
// other keys, bad syntax), and the caller then decodes the line with
// encoding/json, which decides and words the error. When it reports true,
// l is what encoding/json would have decoded (FuzzParseLineFast checks).
func parseLineFast(b []byte, l *ImportLine) bool {
	p := lineParser{b: b}
	p.space()
	if !p.eat('{') {
		return false
	}
	p.space()
	if p.eat('}') {
		return p.end()
	}
	for {
		key, ok := p.raw()
		if !ok {
			return false
		}
		p.space()
		if !p.eat(':') {
			return false
		}
		p.space()
		if !p.field(key, l) {
			return false
		}
		p.space()
		if p.eat('}') {
			return p.end()
		}
		if !p.eat(',') {
			return false
		}
		p.space()
	}
}

// lineParser is parseLineFast's cursor.
type lineParser struct {
	b   []byte
	off int
}

func (p *lineParser) space() {
	for p.off < len(p.b) && (p.b[p.off] == ' ' || p.b[p.off] == '\t' || p.b[p.off] == '\r' || p.b[p.off] == '\n') {
		p.off++
	}
}

func (p *lineParser) eat(c byte) bool {
	if p.off < len(p.b) && p.b[p.off] == c {
		p.off++
		return true
	}
	return false
}

func (p *lineParser) end() bool {
	p.space()
	return p.off == len(p.b)
}

// raw reads a string of printable ASCII without escapes: its bytes in
// the line, not a copy.
func (p *lineParser) raw() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start := p.off
	for p.off < len(p.b) {
		switch c := p.b[p.off]; {
		case c == '"':
			p.off++
			return p.b[start : p.off-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
		p.off++
	}
	return nil, false
}

// field reads the value of key into l.
func (p *lineParser) field(key []byte, l *ImportLine) bool {
	var dst *string
	switch string(key) { // no copy: Go compares the bytes
	case "entity":
		return p.uint(&l.Entity)
	case "pinned":
		return p.bool(&l.Pinned)
	case "registered":
		return p.bool(&l.Registered)
	case "kind":
		dst = &l.Kind
	case "sender":
		dst = &l.Sender
	case "domain":
		dst = &l.Domain
	case "ip":
		dst = &l.IP
	case "name":
		dst = &l.Name
	case "contact":
		dst = &l.Contact
	case "ptr":
		dst = &l.PTR
	default:
		return false
	}
	v, ok := p.raw()
	*dst = lineString(v)
	return ok
}

// lineString is a copy of b, or for a kind the constant (no copy per
// line).
func lineString(b []byte) string {
	for _, k := range lineKinds {
		if string(b) == k {
			return k
		}
	}
	return string(b)
}

// lineKinds are the kinds an import line may have.
var lineKinds = [...]string{"pair", "verp", "relay", "group"}

// uint reads a JSON number that is an unsigned 64-bit integer.
func (p *lineParser) uint(dst *uint64) bool {
	start := p.off
	for p.off < len(p.b) && p.b[p.off] >= '0' && p.b[p.off] <= '9' {
		p.off++
	}
	digits := p.b[start:p.off]
	if len(digits) == 0 || len(digits) > 1 && digits[0] == '0' {
		return false
	}
	if p.off < len(p.b) && (p.b[p.off] == '.' || p.b[p.off] == 'e' || p.b[p.off] == 'E') {
		return false
	}
	n, err := strconv.ParseUint(string(digits), 10, 64)
	*dst = n
	return err == nil
}

func (p *lineParser) bool(dst *bool) bool {
	switch {
	case p.word("true"):
		*dst = true
	case p.word("false"):
		*dst = false
	default:
		return false
	}
	return true
}

func (p *lineParser) word(w string) bool {
	if len(p.b)-p.off >= len(w) && string(p.b[p.off:p.off+len(w)]) == w {
		p.off += len(w)
		return true
	}
	return false
}
