//go:build unix

package raftstore

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// errLocked means another process holds the lock.
var errLocked = errors.New("locked")

// tryLock takes an exclusive flock on f without waiting.
func tryLock(f *os.File) error {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
