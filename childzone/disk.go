package childzone

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/miekg/dns"
)

// A zone's copy is <Dir>/<origin>zone in zone-file syntax; its
// modification time is when a primary last answered the zone's SOA, so a
// restarted node knows how stale its copy is.

func (n *Node) path(s *slot) string { return filepath.Join(n.cfg.Dir, s.origin+"zone") }

// save writes d as s's copy (temporary file, then rename).
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
	fmt.Fprintf(w, "; %s as transferred by wlns serve --serve-only\n", s.origin)
	for _, rr := range d.records() {
		fmt.Fprintln(w, rr.String())
	}
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
	if err != nil {
		return fmt.Errorf("writing zone copy %s: %w", n.path(s), err)
	}
	return nil
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
	var rrs []dns.RR
	zp := dns.NewZoneParser(bufio.NewReader(f), s.origin, n.path(s))
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	d, err := newData(s.origin, rrs)
	if err == nil {
		err = zp.Err()
	}
	if err != nil {
		n.log.Warn("zone copy unusable, waiting for a transfer", "zone", s.origin, "err", err)
		return
	}
	s.cur.Store(d)
	s.ok.Store(st.ModTime().UnixNano())
	n.log.Info("zone copy loaded", "zone", s.origin, "serial", d.soa.Serial, "names", len(d.owners),
		"refreshed", st.ModTime().UTC().Format(time.RFC3339))
}
