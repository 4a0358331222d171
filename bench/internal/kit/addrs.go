package kit

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
)

// IP4 is an IPv4 address as four octets.
type IP4 [4]byte

// Rev is the reversed dotted form used in query names.
func (a IP4) Rev() string { return fmt.Sprintf("%d.%d.%d.%d", a[3], a[2], a[1], a[0]) }

// String is the dotted-quad form.
func (a IP4) String() string { return fmt.Sprintf("%d.%d.%d.%d", a[0], a[1], a[2], a[3]) }

// GenerateAddrs draws n listed and n/4 unlisted distinct public-looking IPv4
// addresses from a seeded generator, so every run and every server sees the
// same data. It never draws from 0/8, 10/8, 127/8 or 224/3.
func GenerateAddrs(n int, seed uint64) (listed, unlisted []IP4) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := make(map[IP4]struct{}, n+n/4)
	draw := func() IP4 {
		for {
			v := rng.Uint32()
			a := IP4{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
			if a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 {
				continue
			}
			if _, dup := seen[a]; dup {
				continue
			}
			seen[a] = struct{}{}
			return a
		}
	}
	listed = make([]IP4, n)
	for i := range listed {
		listed[i] = draw()
	}
	unlisted = make([]IP4, max(n/4, 1))
	for i := range unlisted {
		unlisted[i] = draw()
	}
	return listed, unlisted
}

// WriteFile creates path (world-readable: rbldnsd drops root before it
// reads) and fills it through a buffered writer.
func WriteFile(path string, fill func(*bufio.Writer) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	return nil
}
