package index

import (
	"encoding/binary"
	"testing"
)

// splitFlat reads flatBytes' form back into parts: a kind byte, a uvarint
// length, the bytes. A length past the end takes what is left.
func splitFlat(b []byte) []flatPart {
	var parts []flatPart
	for len(b) > 0 {
		kind := FlatPart(b[0])
		n, w := binary.Uvarint(b[1:])
		if w <= 0 {
			break
		}
		b = b[1+w:]
		n = min(n, uint64(len(b)))
		parts = append(parts, flatPart{kind, b[:n]})
		b = b[n:]
	}
	return parts
}

// FuzzFlatLoad feeds damaged flat forms to the loader: it never panics,
// and whatever it accepts writes out again.
func FuzzFlatLoad(f *testing.F) {
	f.Add(flatBytes(writeFlat(f, threeEntityPairs(200).Load())))
	f.Fuzz(func(t *testing.T, b []byte) {
		back, err := loadFlat(splitFlat(b), nil)
		if err != nil {
			return
		}
		writeFlat(t, back.Load())
	})
}
