package raftstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/wlns/wlns/command"
)

// The spool is a bbolt file beside the Raft folder. Its buckets: pending
// (sequence → entry, replayed in sequence order), failed (sequence → entry
// with its rejection, capped) and reqids (ReqID → sequence, so a duplicate
// ReqID is one entry). Every change is one fsynced bbolt transaction.
var (
	bucketPending = []byte("pending")
	bucketFailed  = []byte("failed")
	bucketReqIDs  = []byte("reqids")
)

// spoolFailedCap bounds the failed bucket; the oldest failures go first.
const spoolFailedCap = 1000

// ErrSpool means the local spool could not store or read a command (disk
// full, corrupt spool file); a write that could not be spooled was not
// acknowledged.
var ErrSpool = errors.New("write spool unavailable")

// SpoolEntry is one spooled command.
type SpoolEntry struct {
	// Seq orders the spool: entries replay in ascending Seq.
	Seq uint64 `json:"seq"`
	// Envelope is the command as proposed, with its original Time and a
	// ReqID.
	Envelope *command.Envelope `json:"envelope"`
	// Spooled is when this node spooled it (local clock).
	Spooled time.Time `json:"spooled"`
	// Attempts counts replays that ended without an answer.
	Attempts int `json:"attempts,omitempty"`
	// Unknown is set once an attempt may have committed the command
	// (leadership lost, timeout, a forward with no answer).
	Unknown bool `json:"unknown,omitempty"`
	// LastError is the last reason it could not be committed.
	LastError string `json:"last_error,omitempty"`
	// Rejection is why the cluster refused it (failed entries only).
	Rejection *command.Rejection `json:"rejection,omitempty"`
	// Failed is when it was moved to the failed list.
	Failed time.Time `json:"failed,omitzero"`
}

// spool is the bbolt-backed queue.
type spool struct {
	db *bbolt.DB
	// failedCap is spoolFailedCap; a field so tests can shrink it.
	failedCap int
	// empty is bit 0 set while the pending bucket is known to be empty,
	// and above it a count of writes to that bucket: waiting answers
	// from it without a read transaction (every single write asks; the
	// transaction was 1.5% of the leader's CPU), and a read that raced a
	// write cannot mark the bucket empty (see waiting).
	empty atomic.Uint64
}

// adding notes a write into the pending bucket, before it is made.
func (sp *spool) adding() {
	for {
		s := sp.empty.Load()
		if sp.empty.CompareAndSwap(s, (s+2)&^1) {
			return
		}
	}
}

// openSpool opens or creates the spool file at path.
func openSpoolFile(path string) (*spool, error) {
	var db *bbolt.DB
	err := openGuarded(path, spoolRemedy, time.Second, func() error {
		var err error
		db, err = bbolt.Open(path, 0o640, &bbolt.Options{Timeout: time.Second})
		return err
	})
	if errors.Is(err, ErrDamaged) {
		return nil, fmt.Errorf("%w: %w", ErrSpool, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: opening %s: %w", ErrSpool, path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketPending, bucketFailed, bucketReqIDs} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: preparing %s: %w", ErrSpool, path, err)
	}
	return &spool{db: db, failedCap: spoolFailedCap}, nil
}

func (sp *spool) close() error { return sp.db.Close() }

func seqKey(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// add stores e unless its ReqID is already spooled; it returns the entry
// (the existing one for a duplicate) and whether it was new.
func (sp *spool) add(e *command.Envelope, unknown bool, cause error, now time.Time) (SpoolEntry, bool, error) {
	var out SpoolEntry
	var added bool
	sp.adding()
	err := sp.db.Update(func(tx *bbolt.Tx) error {
		ids := tx.Bucket(bucketReqIDs)
		if k := ids.Get([]byte(e.ReqID)); k != nil {
			got, err := findEntry(tx, k)
			out = got
			return err
		}
		pend := tx.Bucket(bucketPending)
		n, err := pend.NextSequence()
		if err != nil {
			return err
		}
		out = SpoolEntry{Seq: n, Envelope: e, Spooled: now.UTC(), Unknown: unknown}
		if cause != nil {
			out.LastError = cause.Error()
		}
		if err := putEntry(pend, out); err != nil {
			return err
		}
		added = true
		return ids.Put([]byte(e.ReqID), seqKey(n))
	})
	if err != nil {
		return SpoolEntry{}, false, fmt.Errorf("%w: spooling %s %s: %w", ErrSpool, e.Type, e.ReqID, err)
	}
	return out, added, nil
}

// findEntry reads the pending or failed entry at key k.
func findEntry(tx *bbolt.Tx, k []byte) (SpoolEntry, error) {
	for _, b := range [][]byte{bucketPending, bucketFailed} {
		if v := tx.Bucket(b).Get(k); v != nil {
			return decodeEntry(v)
		}
	}
	return SpoolEntry{}, errors.New("request ID index points at no entry")
}

func putEntry(b *bbolt.Bucket, e SpoolEntry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding spool entry %d: %w", e.Seq, err)
	}
	return b.Put(seqKey(e.Seq), v)
}

func decodeEntry(v []byte) (SpoolEntry, error) {
	var e SpoolEntry
	if err := json.Unmarshal(v, &e); err != nil || e.Envelope == nil {
		return SpoolEntry{}, fmt.Errorf("corrupt spool entry: %v", err)
	}
	return e, nil
}

// firstN returns up to n of the oldest pending entries, in order.
func (sp *spool) firstN(n int) ([]SpoolEntry, error) {
	var out []SpoolEntry
	err := sp.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketPending).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			e, err := decodeEntry(v)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: reading the spool: %w", ErrSpool, err)
	}
	return out, nil
}

// update rewrites a pending entry (attempt counters). Like done, it
// shares one transaction, and one fsync, with the updates and removals
// other goroutines make at the same time (bbolt's Batch: a replay round's
// entries are filed together, not each after the other's fsync).
func (sp *spool) update(e SpoolEntry) error {
	sp.adding()
	err := sp.db.Batch(func(tx *bbolt.Tx) error {
		return putEntry(tx.Bucket(bucketPending), e)
	})
	if err != nil {
		return fmt.Errorf("%w: updating spool entry %d: %w", ErrSpool, e.Seq, err)
	}
	return nil
}

// done removes a committed entry, in one transaction with the removals
// and updates made at the same time (see update).
func (sp *spool) done(e SpoolEntry) error {
	err := sp.db.Batch(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketReqIDs).Delete([]byte(e.Envelope.ReqID)); err != nil {
			return err
		}
		return tx.Bucket(bucketPending).Delete(seqKey(e.Seq))
	})
	if err != nil {
		return fmt.Errorf("%w: removing committed spool entry %d: %w", ErrSpool, e.Seq, err)
	}
	return nil
}

// fail moves a pending entry to the failed list, dropping the oldest
// failures past spoolFailedCap.
func (sp *spool) fail(e SpoolEntry) error {
	err := sp.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketPending).Delete(seqKey(e.Seq)); err != nil {
			return err
		}
		failed := tx.Bucket(bucketFailed)
		if err := putEntry(failed, e); err != nil {
			return err
		}
		return trimFailed(tx, failed, sp.failedCap)
	})
	if err != nil {
		return fmt.Errorf("%w: recording failed spool entry %d: %w", ErrSpool, e.Seq, err)
	}
	return nil
}

// trimFailed drops the oldest failed entries past limit.
func trimFailed(tx *bbolt.Tx, failed *bbolt.Bucket, limit int) error {
	var drop [][]byte
	n := 0
	c := failed.Cursor()
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		if n++; n > limit {
			drop = append(drop, k)
		}
	}
	for _, k := range drop {
		if old, err := decodeEntry(failed.Get(k)); err == nil {
			if err := tx.Bucket(bucketReqIDs).Delete([]byte(old.Envelope.ReqID)); err != nil {
				return err
			}
		}
		if err := failed.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// list returns the pending and the failed entries in spool order.
func (sp *spool) list() (pending, failed []SpoolEntry, err error) {
	err = sp.db.View(func(tx *bbolt.Tx) error {
		if pending, err = listBucket(tx.Bucket(bucketPending)); err != nil {
			return err
		}
		failed, err = listBucket(tx.Bucket(bucketFailed))
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: listing the spool: %w", ErrSpool, err)
	}
	return pending, failed, nil
}

func listBucket(b *bbolt.Bucket) ([]SpoolEntry, error) {
	var out []SpoolEntry
	err := b.ForEach(func(_, v []byte) error {
		e, err := decodeEntry(v)
		if err == nil {
			out = append(out, e)
		}
		return err
	})
	return out, err
}

// waiting is how many entries are pending: 0 at once while the bucket is
// known to be empty, else after one cursor step when none are (every
// write asks, and counts walked both buckets).
func (sp *spool) waiting() (pending int) {
	s := sp.empty.Load()
	if s&1 != 0 {
		return 0
	}
	_ = sp.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPending)
		if k, _ := b.Cursor().First(); k != nil {
			pending = b.Stats().KeyN
		}
		return nil
	})
	if pending == 0 {
		sp.empty.CompareAndSwap(s, s|1) // fails when a write began meanwhile
	}
	return pending
}

// counts returns how many entries are pending and failed.
func (sp *spool) counts() (pending, failed int) {
	_ = sp.db.View(func(tx *bbolt.Tx) error {
		pending = tx.Bucket(bucketPending).Stats().KeyN
		failed = tx.Bucket(bucketFailed).Stats().KeyN
		return nil
	})
	return pending, failed
}
