//go:build !unix

package raftstore

import (
	"errors"
	"os"
)

// errLocked means another process holds the lock.
var errLocked = errors.New("locked")

// tryLock does nothing where flock is missing: bbolt's own file lock still
// keeps a second process off raft.db and spool.db there.
func tryLock(*os.File) error { return nil }
