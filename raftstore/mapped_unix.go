//go:build unix

package raftstore

import (
	"fmt"
	"math"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapFile maps the file at path whole, private and writable: the FSM
// serves from its pages, and a write into them (a seen mark) makes a
// private copy of the page that never reaches the file. The kernel is
// asked to read the file ahead.
func mapFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s to map it: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the size of %s: %w", path, err)
	}
	if st.Size() <= 0 || st.Size() > math.MaxInt {
		return nil, fmt.Errorf("%s holds %d bytes, which cannot be mapped", path, st.Size())
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("mapping %s: %w", path, err)
	}
	_ = unix.Madvise(b, unix.MADV_WILLNEED) // advice: a refusal changes nothing
	return b, nil
}

// unmapFile undoes mapFile.
func unmapFile(b []byte) error { return unix.Munmap(b) }

// releaseFile replaces the pages of a mapping from mapFile, in place, by
// anonymous zero pages that take no memory until written: the file is
// let go (its blocks freed if it was deleted) while the addresses stay
// reserved, so nothing else is ever mapped there.
func releaseFile(b []byte) error {
	_, err := unix.MmapPtr(-1, 0, unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b)),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED|unix.MAP_NORESERVE)
	if err != nil {
		return fmt.Errorf("replacing a mapping of %d bytes: %w", len(b), err)
	}
	return nil
}

// dropPages hands back the pages of a mapping from mapFile: the next read
// of one reads the file again; a private copy (a seen mark) is lost.
func dropPages(b []byte) error { return unix.Madvise(b, unix.MADV_DONTNEED) }
