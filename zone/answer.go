package zone

// answer builds a response in place. Answer records use a compression
// pointer to the question name; the SOA owner points at the apex inside it.
type answer struct {
	b      []byte
	hdr    reqHeader
	an, ns int
	// ar counts the records in the additional section (the OPT record
	// aside), which starts at arStart; finish drops them before it
	// truncates.
	ar, arStart int
	// glueRequired keeps the additional section when the answer must be
	// truncated instead: a referral's glue for name servers below its cut
	// (RFC 9471).
	glueRequired bool
	rcode        int
	aa           bool
	ttl          uint32 // for positive records
	// nsid is the server's NSID, sent when the query asked for it.
	nsid []byte
	// cookie is the COOKIE option to send back (RFC 7873).
	cookie cookieReply
}

// reqHeader is what an answer needs from the request; a copy, so that the
// request stays on the stack.
type reqHeader struct {
	id, flags, qEnd int
	edns, do, nsid  bool
}

func (a *answer) init(dst, req []byte, q *request) {
	a.hdr = reqHeader{id: q.id, flags: q.flags, qEnd: q.qEnd, edns: q.edns, do: q.ednsDO, nsid: q.nsid}
	a.b = append(dst[:0], make([]byte, headerLen)...)
	a.b = append(a.b, req[headerLen:q.qEnd]...)
}

// finish writes the header and the OPT record and truncates the answer when
// it does not fit limit. opt is where the OPT record starts, 0 without one.
func (a *answer) finish(limit int) (b []byte, tc bool, opt int) {
	if len(a.b)+a.optLen() > limit && a.ar > 0 && !a.glueRequired {
		a.b, a.ar = a.b[:a.arStart], 0 // glue for in-zone names is optional here
	}
	if len(a.b)+a.optLen() > limit {
		a.b = a.b[:a.hdr.qEnd]
		a.an, a.ns, a.ar, tc = 0, 0, 0, true
	}
	ar := a.ar
	if a.hdr.edns {
		opt = len(a.b)
		a.b = a.appendOPT(a.b)
		ar++
	}
	flags := flagQR | a.hdr.flags&(0xf<<11|flagRD|flagCD) | a.rcode&0xf
	if a.aa {
		flags |= flagAA
	}
	if tc {
		flags |= flagTC
	}
	h := a.b[:headerLen]
	put16(h[0:], a.hdr.id)
	put16(h[2:], flags)
	put16(h[4:], 1)
	put16(h[6:], a.an)
	put16(h[8:], a.ns)
	put16(h[10:], ar)
	return a.b, tc, opt
}

// optFixedLen is the size of an OPT record without options.
const optFixedLen = 11

func (a *answer) optLen() int {
	if !a.hdr.edns {
		return 0
	}
	n := optFixedLen
	if a.sendNSID() {
		n += 4 + len(a.nsid)
	}
	if a.cookie.n > 0 {
		n += 4 + a.cookie.n
	}
	return n
}

func (a *answer) sendNSID() bool { return a.hdr.nsid && len(a.nsid) > 0 }

func (a *answer) appendOPT(b []byte) []byte {
	b = append(b, 0) // root owner
	b = app16(b, typeOPT)
	b = app16(b, ednsSize)
	var do byte
	if a.hdr.do {
		do = 0x80 // DO is echoed (RFC 3225); the zone is not signed
	}
	b = append(b, byte(a.rcode>>4), 0, do, 0) // extended rcode, version 0, flags
	b = app16(b, a.optLen()-optFixedLen)
	if a.sendNSID() {
		b = app16(b, optNSID)
		b = app16(b, len(a.nsid))
		b = append(b, a.nsid...)
	}
	if a.cookie.n > 0 {
		b = app16(b, optCookie)
		b = app16(b, a.cookie.n)
		b = append(b, a.cookie.b[:a.cookie.n]...)
	}
	return b
}

// errorOnly answers with a bare header, FORMERR or NOTIMP, and an OPT
// record when the query had one (RFC 6891 §7). opt is where it starts, 0
// without one.
func errorOnly(dst []byte, q *request, rcode int, nsid []byte) (b []byte, opt int) {
	a := answer{hdr: reqHeader{id: q.id, flags: q.flags & (0xf<<11 | flagRD), qEnd: headerLen, edns: q.edns, do: q.ednsDO, nsid: q.nsid},
		rcode: rcode, nsid: nsid}
	a.b = append(dst[:0], make([]byte, headerLen)...)
	b, _, opt = a.finish(maxTCPMsg)
	put16(b[4:], 0) // no question
	return b, opt
}

func (a *answer) addA(last byte) {
	b, at := appRRHeader(a.b, ptrQName, typeA, a.ttl)
	b = append(b, 127, 0, 2, last)
	a.b = endRR(b, at)
	a.an++
}

// addTXT adds one TXT record holding text in strings of at most 255 bytes.
func (a *answer) addTXT(text []byte) {
	b, at := appRRHeader(a.b, ptrQName, typeTXT, a.ttl)
	for len(text) > 0 {
		n := min(len(text), 255)
		b = append(b, byte(n))
		b = append(b, text[:n]...)
		text = text[n:]
	}
	a.b = endRR(b, at)
	a.an++
}
