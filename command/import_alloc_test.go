package command

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"testing"
)

// TestDecodeImport_ACountTheBytesCannotHoldAllocatesLittle: a damaged or
// forged record list whose count of registrations, groups or records is
// far more than its bytes can hold is refused without reserving room for
// that count: it costs no more than a valid list of its size could (it
// reserved up to 72 bytes per byte of the list and more: 1 MiB made 57 to
// 217 MiB of allocations before the error).
func TestDecodeImport_ACountTheBytesCannotHoldAllocatesLittle(t *testing.T) {
	const size = 1 << 20
	list := func(prefix ...byte) []byte {
		b := binary.AppendUvarint(prefix, size)
		return append(b, make([]byte, size-len(b))...)
	}
	for name, b := range map[string][]byte{
		"registrations": list(importFormatReg),
		"groups":        list(importFormat),
		"records":       list(importFormat, 1, relayByIPv4, 192, 0, 2, 1),
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := DecodeImport(b)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrBadImport) {
				t.Fatalf("error %v, want ErrBadImport", err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 24*size {
				t.Fatalf("decoding a %d-byte list allocated %s", size, fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)))
			}
		})
	}
}
