package raftstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"time"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// Damaged data files. bbolt maps its file into memory and trusts it: a
// file cut short kills the process with SIGBUS on the first page past the
// end, and a page that does not parse panics. Both raft.db and spool.db are
// therefore checked before bbolt sees them (checkBoltFile, reading with
// plain reads), and opened with a fault turned into an error (openGuarded).
// The check reads bbolt's own layout (go.etcd.io/bbolt internal/common:
// meta.go, page.go) and decides as bbolt's Open and meta() do, so a file
// bbolt would open correctly is never refused.

// ErrDamaged marks a data file that cannot be opened safely; the error is
// a *DamagedError saying which file, what is wrong and what to do.
var ErrDamaged = errors.New("damaged data file")

// DamagedError is a data file refused at start-up.
type DamagedError struct {
	// Path is the file.
	Path string
	// Problem says what is wrong with it.
	Problem string
	// Remedy says what the operator should do.
	Remedy string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("%s is damaged: %s. %s (docs/operations.md, \"Damaged data folder\")", e.Path, e.Problem, e.Remedy)
}

// Is makes errors.Is(err, ErrDamaged) true.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// The parts of bbolt's layout the check reads: a page starts with a 16-byte
// header (id, flags, count, overflow); pages 0 and 1 hold a meta each, in
// the machine's byte order, whose last field is an FNV-64a checksum of the
// fields before it.
const (
	boltPageHeader   = 16
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltMetaSumLen   = 56 // bytes of the meta the checksum covers
	boltMetaLen      = boltMetaSumLen + 8
	boltNoFreelist   = ^uint64(0)
	boltBranchPage   = 0x01
	boltLeafPage     = 0x02
	boltFreelistPage = 0x10
)

// boltMeta is the decoded meta of one meta page.
type boltMeta struct {
	pageSize                  uint32
	root, freelist, hwm, txid uint64 // hwm: first page not in use
}

// parseBoltMeta decodes and validates the meta in the page at b.
func parseBoltMeta(b []byte) (boltMeta, error) {
	if len(b) < boltPageHeader+boltMetaLen {
		return boltMeta{}, errors.New("too short")
	}
	m := b[boltPageHeader : boltPageHeader+boltMetaLen]
	ne := binary.NativeEndian
	switch {
	case ne.Uint32(m[0:]) != boltMagic:
		return boltMeta{}, errors.New("not a bbolt meta page (wrong magic number)")
	case ne.Uint32(m[4:]) != boltVersion:
		return boltMeta{}, fmt.Errorf("bbolt format version %d, want %d", ne.Uint32(m[4:]), boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:boltMetaSumLen])
	if h.Sum64() != ne.Uint64(m[boltMetaSumLen:]) {
		return boltMeta{}, errors.New("checksum mismatch")
	}
	return boltMeta{pageSize: ne.Uint32(m[8:]), root: ne.Uint64(m[16:]), freelist: ne.Uint64(m[32:]),
		hwm: ne.Uint64(m[40:]), txid: ne.Uint64(m[48:])}, nil
}

// checkBoltFile reports what keeps bbolt from opening path safely
// (damage), or why the file could not be read at all (err). A missing file
// is fine: bbolt creates it.
func checkBoltFile(path string) (damage, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", path, err)
	}
	return inspectBolt(f, st.Size()), nil
}

// inspectBolt checks the layout of a bbolt file of size bytes: a valid
// meta, every page it uses inside the file, a sane root and freelist page.
func inspectBolt(f io.ReaderAt, size int64) error {
	m, err := chooseBoltMeta(f, size)
	if err != nil {
		return err
	}
	if need := int64(m.hwm) * int64(m.pageSize); size < need {
		return fmt.Errorf("truncated: it holds %d bytes, its last transaction uses %d (%d pages of %d bytes)",
			size, need, m.hwm, m.pageSize)
	}
	if err := checkBoltPage(f, m, m.root, boltBranchPage|boltLeafPage, "root"); err != nil {
		return err
	}
	if m.freelist != boltNoFreelist {
		return checkBoltPage(f, m, m.freelist, boltFreelistPage, "freelist")
	}
	return nil
}

// chooseBoltMeta finds the page size as bbolt does (the first meta, else
// the second at each possible page size) and returns the meta bbolt would
// use: the valid one with the higher transaction ID.
func chooseBoltMeta(f io.ReaderAt, size int64) (boltMeta, error) {
	if size < boltPageHeader+boltMetaLen {
		return boltMeta{}, fmt.Errorf("it holds %d bytes, less than one bbolt meta page", size)
	}
	var pageSize uint32
	var first error
	for pos := int64(0); pos < size; pos = max(1024, pos*2) {
		m, err := readBoltMeta(f, pos)
		if err == nil && m.pageSize >= 1024 && m.pageSize&(m.pageSize-1) == 0 {
			pageSize = m.pageSize
			break
		}
		if first == nil {
			first = err
		}
		if pos >= 16<<20 {
			break
		}
	}
	if pageSize == 0 {
		return boltMeta{}, fmt.Errorf("no valid meta page (the first: %v)", first)
	}
	m0, err0 := readBoltMeta(f, 0)
	m1, err1 := readBoltMeta(f, int64(pageSize))
	switch {
	case err0 != nil && err1 != nil:
		return boltMeta{}, fmt.Errorf("both meta pages are invalid (%v; %v)", err0, err1)
	case err0 != nil:
		return m1, nil
	case err1 != nil || m0.txid >= m1.txid:
		return m0, nil
	}
	return m1, nil
}

// readBoltMeta reads and validates the meta page at pos.
func readBoltMeta(f io.ReaderAt, pos int64) (boltMeta, error) {
	buf := make([]byte, boltPageHeader+boltMetaLen)
	if _, err := f.ReadAt(buf, pos); err != nil {
		return boltMeta{}, fmt.Errorf("reading the meta page at byte %d: %w", pos, err)
	}
	return parseBoltMeta(buf)
}

// checkBoltPage checks that page id, with its overflow pages, lies below
// the high water mark and carries its own ID and one of the flags in want.
func checkBoltPage(f io.ReaderAt, m boltMeta, id uint64, want uint16, what string) error {
	if id < 2 || id >= m.hwm {
		return fmt.Errorf("the %s page %d is outside the file's %d pages", what, id, m.hwm)
	}
	var h [boltPageHeader]byte
	if _, err := f.ReadAt(h[:], int64(id)*int64(m.pageSize)); err != nil {
		return fmt.Errorf("reading the %s page %d: %w", what, id, err)
	}
	ne := binary.NativeEndian
	switch {
	case ne.Uint64(h[0:]) != id:
		return fmt.Errorf("the %s page %d names itself page %d", what, id, ne.Uint64(h[0:]))
	case ne.Uint16(h[8:])&want == 0:
		return fmt.Errorf("the %s page %d has the wrong type (flags %#x)", what, id, ne.Uint16(h[8:]))
	case id+uint64(ne.Uint32(h[12:])) >= m.hwm:
		return fmt.Errorf("the %s page %d runs past the file's %d pages", what, id, m.hwm)
	}
	return nil
}

// openGuarded checks the bbolt file at path, reads every page it uses,
// and then runs open, turning a memory fault or a panic in bbolt (its
// reaction to a page that does not parse) into a *DamagedError with remedy.
// The read is a read-only open that walks every bucket on this goroutine:
// bbolt's own walk at open (rebuilding the freelist) runs on a goroutine of
// its own, where a fault could not be caught.
func openGuarded(path, remedy string, timeout time.Duration, open func() error) (err error) {
	damage, err := checkBoltFile(path)
	if err != nil {
		return err
	}
	if damage != nil {
		return &DamagedError{Path: path, Problem: damage.Error(), Remedy: remedy}
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = &DamagedError{Path: path, Problem: fmt.Sprintf("bbolt cannot read it: %v", r), Remedy: remedy}
		}
	}()
	if err := walkBolt(path, timeout); err != nil {
		return err
	}
	return open()
}

// walkBolt reads every key and value of the bbolt file at path, if it
// exists, through a read-only handle.
func walkBolt(path string, timeout time.Duration) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := bbolt.Open(path, 0, &bbolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bbolt.Bucket) error { return walkBucket(b) })
	})
}

// walkBucket touches every key, value and nested bucket of b.
func walkBucket(b *bbolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				return walkBucket(nb)
			}
		}
		return nil
	})
}

// What to do about a damaged file, for the operator.
const (
	raftLogRemedy = "This node cannot use its Raft log. A cluster member: stop it, move the raft folder aside " +
		"and start it again with its usual flags including --join: it rejoins under its node ID and receives the data " +
		"from the leader. A single node: move the data folder aside, start a new one and `wlns restore` the newest " +
		"backup, or else the newest raft/snapshots/*/state.bin of the old folder (a snapshot is a backup); writes " +
		"after that snapshot are lost"
	spoolRemedy = "It holds the writes this node accepted while it had no quorum. Move it aside (mv spool.db " +
		"spool.db.damaged) and start again: the node makes a new, empty spool. Writes it held that the cluster has " +
		"not committed are lost and must be sent again"
)

// openRaftLog opens raft.db at path after checking it (openGuarded).
func openRaftLog(path string, timeout time.Duration) (*raftboltdb.BoltStore, error) {
	var bolt *raftboltdb.BoltStore
	err := openGuarded(path, raftLogRemedy, timeout, func() error {
		var err error
		bolt, err = raftboltdb.New(raftboltdb.Options{
			Path:                    path,
			BoltOptions:             &bbolt.Options{Timeout: timeout, NoFreelistSync: true},
			MsgpackUseNewTimeFormat: true,
		})
		return err
	})
	return bolt, err
}
