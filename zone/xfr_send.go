package zone

import (
	"github.com/miekg/dns"
)

// xfrChunk is the most uncompressed bytes of records put in one transfer
// message (a TCP message holds 65,535).
const xfrChunk = 60_000

// producer streams the records of a transfer to emit, in order.
type producer func(emit func(...dns.RR))

// send streams a transfer through miekg's Transfer.Out, which signs each
// message when the request was signed (RFC 8945 §5.3.1).
func (x *XFR) send(w dns.ResponseWriter, req *dns.Msg, produce producer) {
	ch := make(chan *dns.Envelope, 2)
	done := make(chan error, 1)
	go func() {
		tr := new(dns.Transfer)
		done <- tr.Out(w, req, ch)
	}()
	var batch []dns.RR
	size := 0
	failed := false
	emit := func(rrs ...dns.RR) {
		for _, rr := range rrs {
			n := dns.Len(rr)
			if size+n > xfrChunk && len(batch) > 0 && !failed {
				select {
				case ch <- &dns.Envelope{RR: batch}:
				case err := <-done:
					failed = true
					done <- err
				}
				batch, size = nil, 0
			}
			batch = append(batch, rr)
			size += n
		}
	}
	produce(emit)
	if len(batch) > 0 && !failed {
		select {
		case ch <- &dns.Envelope{RR: batch}:
		case err := <-done:
			done <- err
		}
	}
	close(ch)
	if err := <-done; err != nil {
		x.m.refused.WithLabelValues("write").Inc()
		x.log.Info("zone transfer broken off", "client", w.RemoteAddr().String(), "err", err)
	}
	_ = w.Close()
}

// full streams a whole zone (AXFR, or IXFR answered in full).
func (x *XFR) full(origin string, v *xfrVersion, subs []string) producer {
	return func(emit func(...dns.RR)) {
		soa := x.soa(origin, v.serial)
		emit(soa)
		if origin != x.apex {
			emit(x.ns(origin)...)
		}
		for _, sub := range subs {
			emit(v.zones[sub].own...)
			x.stream(emit, v.zones[sub].recs)
		}
		emit(soa)
	}
}

// stream emits the records of recs a few at a time, so a large zone is
// never all in memory as dns.RR values.
func (x *XFR) stream(emit func(...dns.RR), recs []xfrRec) {
	var buf []dns.RR
	for len(recs) > 0 {
		n := min(len(recs), 256)
		buf = x.rrs(buf[:0], recs[:n])
		emit(buf...)
		recs = recs[n:]
	}
}

// ixfr answers an IXFR over TCP (RFC 1995): the differences from the
// client's serial when the journal reaches back to it, the current SOA
// alone when the client is up to date, else the whole zone.
func (x *XFR) ixfr(w dns.ResponseWriter, req *dns.Msg, origin string, cur *xfrVersion, journal []*xfrStep, subs []string) {
	var from uint32
	for _, rr := range req.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			from = soa.Serial
		}
	}
	if from == cur.serial {
		x.m.transfers.WithLabelValues("ixfr_current").Inc()
		x.send(w, req, func(emit func(...dns.RR)) { emit(x.soa(origin, cur.serial)) })
		return
	}
	steps, ok := chainFrom(journal, from, subs)
	if !ok || len(steps) == 0 || steps[len(steps)-1].to != cur.serial {
		x.m.transfers.WithLabelValues("ixfr_full").Inc()
		x.send(w, req, x.full(origin, cur, subs))
		return
	}
	x.m.transfers.WithLabelValues("ixfr").Inc()
	x.send(w, req, func(emit func(...dns.RR)) {
		soa := x.soa(origin, cur.serial)
		emit(soa)
		for _, st := range steps {
			emit(x.soa(origin, st.from))
			for _, sub := range subs {
				emit(st.diffs[sub].delOwn...)
				x.stream(emit, st.diffs[sub].del)
			}
			emit(x.soa(origin, st.to))
			for _, sub := range subs {
				emit(st.diffs[sub].addOwn...)
				x.stream(emit, st.diffs[sub].add)
			}
		}
		emit(soa)
	})
}
