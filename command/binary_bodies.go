package command

import (
	"errors"

	"github.com/wlns/wlns/command/wire"
)

// The binary bodies of the single-write kinds (binary.go). Every field of
// the JSON body is written, in a fixed order, strings as they are: a body
// decodes to the struct its JSON form decodes to. Flag bytes with unknown
// bits are refused, so each body has one binary form.

// errFlags means a flags byte had bits no body defines.
var errFlags = errors.New("unknown flag bits")

// flagPinned (a touched entity's Self too) and the entity flags are the
// bits of a body's flags byte.
const (
	flagPinned     = 1
	flagGroup      = 2
	flagRegistered = 4
)

// flags reads a flags byte, refusing bits outside mask.
func flags(r *wire.Reader, mask byte) byte {
	f := r.Byte()
	if f&^mask != 0 {
		r.Fail(errFlags)
	}
	return f
}

// bit is f when set, else 0.
func bit(set bool, f byte) byte {
	if set {
		return f
	}
	return 0
}

// recordFields are the fields PairBody and VerpBody share, in their
// binary order: key (the sender or the VERP domain), entity, ip, by,
// method, flags.
type recordFields struct {
	key, ip, by, method *string
	entity              *uint64
	pinned              *bool
}

func (f recordFields) append(w *wire.Writer) {
	w.Text(*f.key)
	w.Uvarint(*f.entity)
	w.Text(*f.ip)
	w.Text(*f.by)
	w.Text(*f.method)
	w.Byte(bit(*f.pinned, flagPinned))
}

func (f recordFields) read(r *wire.Reader) {
	*f.key, *f.entity, *f.ip, *f.by, *f.method = r.Text(), r.Uvarint(), r.Text(), r.Text(), r.Text()
	*f.pinned = flags(r, flagPinned) != 0
}

func pairFields(b *PairBody) recordFields {
	return recordFields{&b.Sender, &b.IP, &b.By, &b.Method, &b.Entity, &b.Pinned}
}

func verpFields(b *VerpBody) recordFields {
	return recordFields{&b.Domain, &b.IP, &b.By, &b.Method, &b.Entity, &b.Pinned}
}

var (
	pairBinary = binaryOf(func(w *wire.Writer, b *PairBody) { pairFields(b).append(w) },
		func(r *wire.Reader, b *PairBody) { pairFields(b).read(r) })
	verpBinary = binaryOf(func(w *wire.Writer, b *VerpBody) { verpFields(b).append(w) },
		func(r *wire.Reader, b *VerpBody) { verpFields(b).read(r) })
)

var entityBinary = binaryOf(func(w *wire.Writer, b *EntityBody) {
	w.Uvarint(b.ID)
	w.Text(b.Name)
	w.Byte(bit(b.Group, flagGroup) | bit(b.Registered, flagRegistered) | bit(b.Pinned, flagPinned))
	w.Texts(b.Prefixes)
	w.Text(b.Contact)
	w.Text(b.PTR)
}, func(r *wire.Reader, b *EntityBody) {
	b.ID, b.Name = r.Uvarint(), r.Text()
	f := flags(r, flagGroup|flagRegistered|flagPinned)
	b.Group, b.Registered, b.Pinned = f&flagGroup != 0, f&flagRegistered != 0, f&flagPinned != 0
	b.Prefixes, b.Contact, b.PTR = r.Texts(), r.Text(), r.Text()
})

var membersBinary = binaryOf(func(w *wire.Writer, b *MembersBody) {
	w.Uvarint(b.Entity)
	w.Texts(b.Prefixes)
}, func(r *wire.Reader, b *MembersBody) {
	b.Entity, b.Prefixes = r.Uvarint(), r.Texts()
})

// groupBinary reads a Group's body: a count and each command's whole
// entry. A Group is only ever written by EncodeGroup, which splices the
// entries; its Append encodes each command again.
var groupBinary = binaryOf(func(w *wire.Writer, b *GroupBody) {
	w.Uvarint(uint64(len(b.Commands)))
	for i := range b.Commands {
		c := &b.Commands[i]
		raw, ok := c.EncodeBinary()
		if !ok {
			var err error
			if raw, err = c.Encode(); err != nil {
				w.NotUTF8 = true // not encodable: the caller keeps the JSON form
			}
		}
		w.Bytes(raw)
	}
}, func(r *wire.Reader, b *GroupBody) {
	n := r.Count(2)
	b.Commands = make([]Envelope, 0, n)
	for range n {
		c, err := Decode(r.Bytes())
		switch {
		case r.Err() != nil:
			return
		case err != nil:
			r.Fail(err)
			return
		case c.Type == Group:
			r.Fail(errors.New("a group inside a group"))
			return
		}
		b.Commands = append(b.Commands, *c)
	}
})

// touchBinary: a count of entities, each its ID, a flags byte (Self), its
// age, then its pairs and its VERP sources as counts of (key, age).
var touchBinary = binaryOf(func(w *wire.Writer, b *TouchBody) {
	w.Uvarint(uint64(len(b.Entities)))
	for i := range b.Entities {
		e := &b.Entities[i]
		w.Uvarint(e.ID)
		w.Byte(bit(e.Self, flagPinned))
		w.Varint(e.Age)
		appendTouchItems(w, e.Pairs)
		appendTouchItems(w, e.Verps)
	}
}, func(r *wire.Reader, b *TouchBody) {
	n := r.Count(5)
	if n == 0 {
		return
	}
	b.Entities = make([]TouchEntity, 0, n)
	for range n {
		e := TouchEntity{ID: r.Uvarint(), Self: flags(r, flagPinned) != 0, Age: r.Varint()}
		e.Pairs, e.Verps = readTouchItems(r), readTouchItems(r)
		if r.Err() != nil {
			return
		}
		b.Entities = append(b.Entities, e)
	}
})

func appendTouchItems(w *wire.Writer, items []TouchItem) {
	w.Uvarint(uint64(len(items)))
	for _, it := range items {
		w.Text(it.Key)
		w.Varint(it.Age)
	}
}

// readTouchItems reads what appendTouchItems wrote (nil for none).
func readTouchItems(r *wire.Reader) []TouchItem {
	n := r.Count(2)
	if n == 0 {
		return nil
	}
	out := make([]TouchItem, 0, n)
	for range n {
		out = append(out, TouchItem{Key: r.Text(), Age: r.Varint()})
	}
	return out
}
