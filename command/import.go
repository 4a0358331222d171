package command

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Import (envelope version 5) adds or refreshes many pairs and VERP
// sources in one log entry, all or nothing, like a Batch of PairPut and
// VerpPut commands with the same By, Method and Time. Its records travel
// in a compact binary list (ImportBody.Records) grouped by relay, so the
// state machine resolves each relay once and decodes no JSON per record.
const Import Type = "import"

// ImportBody is the body of Import.
type ImportBody struct {
	// By says who verified the records (the importing token's name).
	By string `json:"by,omitempty"`
	// Method says how ("import").
	Method string `json:"method,omitempty"`
	// Records is the binary record list ImportWriter builds and
	// DecodeImport reads (a JSON entry carries it as base64, a binary
	// entry as it is: importBinary).
	Records []byte `json:"records"`
}

// ImportRelay names the relay entity of a group of import records: by ID,
// or by an address resolved by longest-prefix match when the entry applies
// (an address of no entity gets a new unregistered lone entity, as in
// PairPut). Exactly one of the two is set.
type ImportRelay struct {
	Entity uint64
	IP     netip.Addr
}

// ImportRecord is one pair (Text is a sender address or, for a domain-wide
// pair, a domain) or VERP source (Text is the list domain). Text is
// normalised: Store.Apply refuses an Import whose text is not.
type ImportRecord struct {
	Text   string
	Verp   bool
	Pinned bool
}

// ImportGroup is the records of one relay, in the order they were added.
type ImportGroup struct {
	Relay   ImportRelay
	Records []ImportRecord
}

// ImportRegistration registers a lone relay, as the EntityPut of an
// import's relay line does: ID 0 creates the registered entity of Addr,
// another ID registers (replaces) that entity, the lone entity of Addr.
// Contact and PTR are as the API normalised them.
type ImportRegistration struct {
	ID      uint64
	Addr    netip.Addr
	Contact string
	PTR     string
	Pinned  bool
}

// Body is the EntityPut body r stands for.
func (r ImportRegistration) Body() EntityBody {
	p := netip.PrefixFrom(r.Addr, r.Addr.BitLen())
	return EntityBody{ID: r.ID, Prefixes: []string{p.String()}, Registered: true,
		Contact: r.Contact, PTR: r.PTR, Pinned: r.Pinned}
}

// ImportList is a decoded record list: the registrations, applied first
// and in order, then the records by relay.
type ImportList struct {
	Registrations []ImportRegistration
	Groups        []ImportGroup
}

// The record list, format 1, or 2 when it registers relays (all integers
// uvarint):
//
//	format(1) groups group*
//	format(2) count registration* groups group*
//	registration = address id flags(bit 0 pinned) len contact len ptr
//	address      = 4 IPv4(4 bytes) | 6 IPv6(16 bytes)
//	group  = relay count record*
//	relay  = 0 entity | address
//	record = flags(bit 0 pinned, bit 1 VERP) len text
//
// Registrations keep the order they were added in. Groups are sorted by
// relay (IDs, then addresses); records keep the order they were added in
// within their group.
const (
	importFormat    = 1
	importFormatReg = 2
	relayByID       = 0
	relayByIPv4     = 4
	relayByIPv6     = 6
	importPinned    = 1
	importVerp      = 2
	importFlagsMask = importPinned | importVerp
	// MaxImportText bounds one record's text (a sender is at most 254
	// octets; the bound only keeps a corrupt length from reading far).
	MaxImportText = 1024
)

// ErrBadImport means an Import's record list does not decode.
var ErrBadImport = errors.New("bad import record list")

// ImportWriter collects import records and encodes them grouped by relay.
// The zero value is ready to use.
type ImportWriter struct {
	groups map[ImportRelay]int // index in gs
	gs     []writerGroup
	regs   []ImportRegistration
	regSeq []int // the Add ordinal of each registration
	n      int
	size   int
}

type writerGroup struct {
	relay ImportRelay
	recs  []ImportRecord
	seq   []int // the Add ordinal of each record
}

// Add appends a record for relay.
func (w *ImportWriter) Add(relay ImportRelay, r ImportRecord) {
	if w.groups == nil {
		w.groups = make(map[ImportRelay]int)
	}
	i, ok := w.groups[relay]
	if !ok {
		i = len(w.gs)
		w.groups[relay] = i
		w.gs = append(w.gs, writerGroup{relay: relay})
		w.size += 20
	}
	g := &w.gs[i]
	g.recs = append(g.recs, r)
	g.seq = append(g.seq, w.n)
	w.n++
	w.size += len(r.Text) + 3
}

// AddRegistration appends a relay registration. Registrations apply before
// every record: a caller must not add one after a record it would change
// the outcome of.
func (w *ImportWriter) AddRegistration(r ImportRegistration) {
	w.regs = append(w.regs, r)
	w.regSeq = append(w.regSeq, w.n)
	w.n++
	w.size += 30 + len(r.Contact) + len(r.PTR)
}

// Len is the number of records added.
func (w *ImportWriter) Len() int { return w.n }

// Size is about the encoded size in bytes.
func (w *ImportWriter) Size() int { return w.size }

// Encode returns the record list and, for each record in list order, the
// ordinal of the Add call that added it (a rejection's Index counts in
// list order).
func (w *ImportWriter) Encode() ([]byte, []int) {
	gs := slices.Clone(w.gs)
	slices.SortFunc(gs, func(a, b writerGroup) int { return compareRelay(a.relay, b.relay) })
	out := make([]byte, 0, w.size+16)
	order := make([]int, 0, w.n)
	if len(w.regs) == 0 {
		out = append(out, importFormat)
	} else {
		out = append(out, importFormatReg)
		out = binary.AppendUvarint(out, uint64(len(w.regs)))
		for _, r := range w.regs {
			out = appendRegistration(out, r)
		}
		order = append(order, w.regSeq...)
	}
	out = binary.AppendUvarint(out, uint64(len(gs)))
	for _, g := range gs {
		out = appendRelay(out, g.relay)
		out = binary.AppendUvarint(out, uint64(len(g.recs)))
		for _, r := range g.recs {
			var f byte
			if r.Pinned {
				f |= importPinned
			}
			if r.Verp {
				f |= importVerp
			}
			out = append(out, f)
			out = binary.AppendUvarint(out, uint64(len(r.Text)))
			out = append(out, r.Text...)
		}
		order = append(order, g.seq...)
	}
	return out, order
}

func compareRelay(a, b ImportRelay) int {
	if c := cmp.Compare(a.Entity, b.Entity); c != 0 {
		return c
	}
	return a.IP.Compare(b.IP)
}

func appendRelay(out []byte, r ImportRelay) []byte {
	if r.Entity != 0 {
		out = append(out, relayByID)
		return binary.AppendUvarint(out, r.Entity)
	}
	return appendAddr(out, r.IP)
}

func appendAddr(out []byte, ip netip.Addr) []byte {
	if ip.Is4() {
		a := ip.As4()
		return append(append(out, relayByIPv4), a[:]...)
	}
	a := ip.As16()
	return append(append(out, relayByIPv6), a[:]...)
}

func appendRegistration(out []byte, r ImportRegistration) []byte {
	out = appendAddr(out, r.Addr)
	out = binary.AppendUvarint(out, r.ID)
	var f byte
	if r.Pinned {
		f = importPinned
	}
	out = append(out, f)
	out = binary.AppendUvarint(out, uint64(len(r.Contact)))
	out = append(out, r.Contact...)
	out = binary.AppendUvarint(out, uint64(len(r.PTR)))
	return append(out, r.PTR...)
}

// DecodeImport reads a record list. Texts are substrings of one string
// copy of b. It checks the structure only (lengths, flags, relays, at
// least one record or registration, nothing left over), not what the
// texts say.
func DecodeImport(b []byte) (*ImportList, error) {
	d := importDecoder{s: string(b)}
	l := &ImportList{}
	switch f := d.byte(); f {
	case importFormat:
	case importFormatReg:
		n := d.count(minRegistration)
		l.Registrations = make([]ImportRegistration, 0, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			l.Registrations = append(l.Registrations, d.registration())
		}
	default:
		return nil, d.fail(fmt.Errorf("format %d (this build reads %d and %d)", f, importFormat, importFormatReg))
	}
	ng := d.count(minGroup)
	l.Groups = make([]ImportGroup, 0, ng)
	total := len(l.Registrations)
	for range ng {
		g := ImportGroup{Relay: d.relay()}
		n := d.count(minRecord)
		g.Records = make([]ImportRecord, 0, n)
		for i := uint64(0); i < n && d.err == nil; i++ {
			g.Records = append(g.Records, d.record())
		}
		if d.err != nil {
			return nil, d.err
		}
		total += len(g.Records)
		l.Groups = append(l.Groups, g)
	}
	switch {
	case d.err != nil:
		return nil, d.err
	case d.off != len(d.s):
		return nil, d.fail(fmt.Errorf("%d bytes after the last group", len(d.s)-d.off))
	case total == 0:
		return nil, d.fail(errors.New("no records"))
	}
	return l, nil
}

// importDecoder reads a record list; the first error sticks.
type importDecoder struct {
	s   string
	off int
	err error
}

func (d *importDecoder) fail(err error) error {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %w", ErrBadImport, d.off, err)
		d.off = len(d.s)
	}
	return d.err
}

func (d *importDecoder) byte() byte {
	if d.off >= len(d.s) {
		d.fail(errors.New("truncated"))
		return 0
	}
	d.off++
	return d.s[d.off-1]
}

// The fewest bytes a registration (address, ID, flags, two empty texts),
// a group (relay by ID, no records) and a record (flags, a one-byte text)
// take in a record list.
const (
	minRegistration = 9
	minGroup        = 3
	minRecord       = 3
)

// count reads the count of what follows, items of at least size bytes
// each: a count the rest of the list cannot hold is refused before
// anything is reserved for it (a forged count reserved up to 72 bytes per
// byte of the list).
func (d *importDecoder) count(size int) uint64 {
	return d.uvarint(uint64((len(d.s) - d.off) / size))
}

// uvarint reads a uvarint of at most limit.
func (d *importDecoder) uvarint(limit uint64) uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c := d.byte()
		if d.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if v > limit {
				d.fail(fmt.Errorf("count %d over %d", v, limit))
				return 0
			}
			return v
		}
	}
	d.fail(errors.New("varint overflows"))
	return 0
}

func (d *importDecoder) bytes(n int) string {
	if d.err != nil || n > len(d.s)-d.off {
		d.fail(errors.New("truncated"))
		return ""
	}
	d.off += n
	return d.s[d.off-n : d.off]
}

func (d *importDecoder) relay() ImportRelay {
	if d.off < len(d.s) && d.s[d.off] == relayByID {
		d.off++
		id := d.uvarint(^uint64(0))
		if id == 0 && d.err == nil {
			d.fail(errors.New("entity 0"))
		}
		return ImportRelay{Entity: id}
	}
	return ImportRelay{IP: d.addr()}
}

func (d *importDecoder) addr() netip.Addr {
	switch k := d.byte(); k {
	case relayByIPv4:
		if s := d.bytes(4); d.err == nil {
			return netip.AddrFrom4([4]byte([]byte(s)))
		}
	case relayByIPv6:
		if s := d.bytes(16); d.err == nil {
			return netip.AddrFrom16([16]byte([]byte(s)))
		}
	default:
		d.fail(fmt.Errorf("relay kind %d", k))
	}
	return netip.Addr{}
}

func (d *importDecoder) registration() ImportRegistration {
	r := ImportRegistration{Addr: d.addr(), ID: d.uvarint(^uint64(0))}
	f := d.byte()
	if f&^importPinned != 0 {
		d.fail(fmt.Errorf("registration flags %#x", f))
	}
	r.Pinned = f&importPinned != 0
	r.Contact = d.bytes(int(d.uvarint(MaxImportText)))
	r.PTR = d.bytes(int(d.uvarint(MaxImportText)))
	return r
}

func (d *importDecoder) record() ImportRecord {
	f := d.byte()
	if f&^importFlagsMask != 0 {
		d.fail(fmt.Errorf("record flags %#x", f))
	}
	n := d.uvarint(MaxImportText)
	t := d.bytes(int(n))
	if n == 0 && d.err == nil {
		d.fail(errors.New("empty text"))
	}
	return ImportRecord{Text: t, Pinned: f&importPinned != 0, Verp: f&importVerp != 0}
}

func init() { register(Kind{Type: Import, Since: 5, Body: bodyOf[ImportBody](), Binary: importBinary}) }
