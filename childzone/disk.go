package childzone

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// A zone's copy is <Dir>/<origin>zone in zone-file syntax; its
// modification time is when a primary last answered the zone's SOA, so a
// restarted node knows how stale its copy is. Its last line is a comment
// holding the SHA-256 of every byte before it: a copy cut short on a line
// boundary still reads as a zone, with the primary's serial, so the node
// would serve it — and, the serial being current, never transfer it
// again. A copy whose sum does not match is not loaded.

// sumPrefix starts a copy's last line, followed by the hex SHA-256 of
// every byte before that line.
const sumPrefix = "; sha256 "

func (n *Node) path(s *slot) string { return filepath.Join(n.cfg.Dir, s.origin+"zone") }

// save writes d as s's copy (temporary file, then rename, then the
// folder synced).
func (n *Node) save(s *slot, d *data) error {
	if err := os.MkdirAll(n.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("zone copy folder: %w", err)
	}
	tmp, err := os.CreateTemp(n.cfg.Dir, "."+s.origin+"*")
	if err != nil {
		return fmt.Errorf("writing zone copy: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	w := bufio.NewWriter(tmp)
	sum := sha256.New()
	body := io.MultiWriter(w, sum)
	fmt.Fprintf(body, "; %s as transferred by wlns serve --serve-only\n", s.origin)
	for _, rr := range d.records() {
		fmt.Fprintln(body, rr.String())
	}
	fmt.Fprintf(w, "%s%x\n", sumPrefix, sum.Sum(nil))
	err = w.Flush()
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), n.path(s))
	}
	if err == nil {
		err = syncDir(n.cfg.Dir)
	}
	if err != nil {
		return fmt.Errorf("writing zone copy %s: %w", n.path(s), err)
	}
	return nil
}

// syncDir makes the renames into dir durable: the copy's bytes are synced
// before its rename, but until its folder is, a crash can bring back the
// old copy or none.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// touch records that a primary answered s's SOA just now.
func (n *Node) touch(s *slot) {
	now := n.now()
	s.ok.Store(now.UnixNano())
	if err := os.Chtimes(n.path(s), now, now); err != nil && !os.IsNotExist(err) {
		n.log.Warn("marking the zone copy refreshed", "zone", s.origin, "err", err)
	}
}

// load reads s's copy, if there is one: it is served at once, as stale as
// its modification time says.
func (n *Node) load(s *slot) {
	f, err := os.Open(n.path(s))
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		n.log.Warn("reading the zone copy", "zone", s.origin, "err", err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return
	}
	d, err := n.readCopy(s, f)
	if err != nil {
		n.log.Warn("zone copy unusable, waiting for a transfer", "zone", s.origin, "err", err)
		return
	}
	s.cur.Store(d)
	s.ok.Store(st.ModTime().UnixNano())
	n.log.Info("zone copy loaded", "zone", s.origin, "serial", d.soa.Serial, "names", len(d.owners),
		"refreshed", st.ModTime().UTC().Format(time.RFC3339))
}

// readCopy reads a copy whose last line sums every byte before it.
func (n *Node) readCopy(s *slot, f *os.File) (*data, error) {
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndex(b, []byte("\n"+sumPrefix))
	if i < 0 {
		return nil, errors.New("no checksum line: cut short")
	}
	body, last := b[:i+1], strings.TrimSpace(string(b[i+1+len(sumPrefix):]))
	if sum := sha256.Sum256(body); last != hex.EncodeToString(sum[:]) {
		return nil, errors.New("checksum does not match: cut short or damaged")
	}
	var rrs []dns.RR
	zp := dns.NewZoneParser(bytes.NewReader(body), s.origin, n.path(s))
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	return newData(s.origin, rrs)
}
