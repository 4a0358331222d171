package zone

import "github.com/wlns/wlns/qname"

// request is a parsed query. It lives on the stack of Respond.
type request struct {
	id, flags int
	qtype     int
	qclass    int
	qEnd      int // end of the question section in the packet
	name      qname.Name

	edns     bool
	ednsVer  int
	ednsSize int
	ednsDO   bool
	// nsid is set when the OPT record asks for the server's NSID (RFC 5001).
	nsid bool
	// cookieOff and cookieLen locate the COOKIE option's data in the
	// packet (RFC 7873); cookieLen is 0 without one.
	cookieOff, cookieLen int
}

// parseStatus says what to do with a packet after parsing.
type parseStatus int

const (
	parseOK      parseStatus = iota
	parseDrop                // not a query we can answer at all
	parseFormErr             // header readable, rest malformed
	parseNotImp              // opcode other than QUERY
)

func (q *request) opcode() int { return (q.flags >> 11) & 0xf }

// parse reads the header, the one question and the EDNS OPT record.
func (q *request) parse(req []byte) parseStatus {
	if len(req) < headerLen {
		return parseDrop
	}
	q.id, q.flags = be16(req[0:]), be16(req[2:])
	if q.flags&flagQR != 0 {
		return parseDrop
	}
	st := q.parseQuestion(req)
	if q.opcode() != 0 {
		// Read on as far as the packet allows, so the NOTIMP carries an
		// OPT record when the query had one (RFC 6891 §7).
		return parseNotImp
	}
	return st
}

// parseQuestion reads the one question and the rest of the packet.
func (q *request) parseQuestion(req []byte) parseStatus {
	if be16(req[4:]) != 1 {
		return parseFormErr
	}
	off, err := q.name.ReadWire(req, headerLen)
	if err != nil || off+4 > len(req) {
		return parseFormErr
	}
	q.qtype, q.qclass = be16(req[off:]), be16(req[off+2:])
	q.qEnd = off + 4
	return q.parseRest(req)
}

// parseRest skips any answer and authority records and reads the OPT record
// from the additional section.
func (q *request) parseRest(req []byte) parseStatus {
	off := q.qEnd
	rrs := be16(req[6:]) + be16(req[8:])
	ar := be16(req[10:])
	for i := 0; i < rrs+ar; i++ {
		start := off
		var ok bool
		off, ok = skipName(req, off)
		if !ok || off+10 > len(req) {
			return parseFormErr
		}
		rtype, rdlen := be16(req[off:]), be16(req[off+8:])
		if i >= rrs && rtype == typeOPT {
			if q.edns || off != start+1 {
				return parseFormErr // a second OPT, or OPT not at the root
			}
			q.edns = true
			q.ednsSize = be16(req[off+2:])
			q.ednsVer = int(req[off+5])
			q.ednsDO = req[off+6]&0x80 != 0
			if off+10+rdlen <= len(req) && !q.parseOptions(req, off+10, off+10+rdlen) {
				return parseFormErr
			}
		}
		off += 10 + rdlen
		if off > len(req) {
			return parseFormErr
		}
	}
	return parseOK
}

// parseOptions reads the options of the OPT record, req[off:end]; false
// when they do not add up to its length or a COOKIE option has a length
// RFC 7873 §5.2.2 calls malformed.
func (q *request) parseOptions(req []byte, off, end int) bool {
	for off < end {
		if end-off < 4 {
			return false
		}
		code, n := be16(req[off:]), be16(req[off+2:])
		if off+4+n > end {
			return false
		}
		switch code {
		case optNSID:
			q.nsid = true
		case optCookie:
			if n != clientCookieLen && (n < clientCookieLen+8 || n > clientCookieLen+32) {
				return false
			}
			q.cookieOff, q.cookieLen = off+4, n
		}
		off += 4 + n
	}
	return true
}

// clientLimit is the largest UDP response the client accepts.
func (q *request) clientLimit() int {
	if !q.edns || q.ednsSize < 512 {
		return 512
	}
	return q.ednsSize
}
