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
		key, ok := p.str()
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

// str reads a string of printable ASCII without escapes.
func (p *lineParser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.off
	for p.off < len(p.b) {
		switch c := p.b[p.off]; {
		case c == '"':
			p.off++
			return string(p.b[start : p.off-1]), true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return "", false
		}
		p.off++
	}
	return "", false
}

// field reads the value of key into l.
func (p *lineParser) field(key string, l *ImportLine) bool {
	switch key {
	case "entity":
		return p.uint(&l.Entity)
	case "pinned":
		return p.bool(&l.Pinned)
	case "registered":
		return p.bool(&l.Registered)
	}
	f, ok := lineStrings[key]
	if !ok {
		return false
	}
	v, ok := p.str()
	*f(l) = v
	return ok
}

// lineStrings are ImportLine's string fields by JSON name.
var lineStrings = map[string]func(*ImportLine) *string{
	"kind": func(l *ImportLine) *string { return &l.Kind }, "sender": func(l *ImportLine) *string { return &l.Sender },
	"domain": func(l *ImportLine) *string { return &l.Domain }, "ip": func(l *ImportLine) *string { return &l.IP },
	"name": func(l *ImportLine) *string { return &l.Name }, "contact": func(l *ImportLine) *string { return &l.Contact },
	"ptr": func(l *ImportLine) *string { return &l.PTR },
}

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
