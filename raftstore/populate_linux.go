package raftstore

import "golang.org/x/sys/unix"

// populateWrite makes b's pages of a mapping from mapFile private copies
// now, as a write into each would (MADV_POPULATE_WRITE, Linux 5.14).
func populateWrite(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return unix.Madvise(b, unix.MADV_POPULATE_WRITE)
}
