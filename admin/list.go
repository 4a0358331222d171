package admin

import (
	"cmp"
	"container/heap"
	"encoding/base64"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wlns/wlns/index"
	"github.com/wlns/wlns/record"
)

// Page sizes of list endpoints.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// filter is the entity selection and paging of a list request.
type filter struct {
	// ids are the entities to list; nil means all.
	ids map[uint64]bool
	// empty is true when the filters cannot match anything.
	empty bool
	limit int
	after *key
}

// parseFilter reads ip, entity, prefix, limit and after.
func parseFilter(v *index.View, q url.Values) (filter, error) {
	f := filter{limit: DefaultLimit}
	if s := q.Get("ip"); s != "" {
		ip, err := parseIP(s)
		if err != nil {
			return f, err
		}
		var ids []uint64
		if e := v.EntityOf(ip); e != nil {
			ids = append(ids, e.ID)
		}
		f.restrict(ids)
	}
	if s := q.Get("entity"); s != "" {
		id, err := queryUint(s, "entity")
		if err != nil {
			return f, err
		}
		f.restrict([]uint64{id})
	}
	if s := q.Get("prefix"); s != "" {
		p, err := record.ParsePrefix(s)
		if err != nil {
			return f, errorf(http.StatusBadRequest, "invalid prefix %q: not an IP address or CIDR", s)
		}
		f.restrict(entitiesInside(v, p))
	}
	return f, f.parsePaging(q)
}

func (f *filter) parsePaging(q url.Values) error {
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return errorf(http.StatusBadRequest, "invalid limit %q: want 1 to %d", s, MaxLimit)
		}
		f.limit = n
	}
	if s := q.Get("after"); s != "" {
		k, err := decodeCursor(s)
		if err != nil {
			return err
		}
		f.after = &k
	}
	return nil
}

// restrict narrows the selection to the entities in ids.
func (f *filter) restrict(ids []uint64) {
	next := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		if f.ids == nil || f.ids[id] {
			next[id] = true
		}
	}
	f.ids = next
	f.empty = len(next) == 0
}

func (f *filter) entityOK(id uint64) bool { return f.ids == nil || f.ids[id] }

// entitiesInside lists the entities that have a member inside p.
func entitiesInside(v *index.View, p netip.Prefix) []uint64 {
	var ids []uint64
	scope := []netip.Prefix{p}
	v.EachEntity(func(e index.EntityRef) bool {
		e.EachPrefix(func(m netip.Prefix) bool {
			if within(m, scope) {
				ids = append(ids, e.ID())
				return false
			}
			return true
		})
		return true
	})
	return ids
}

func queryUint(s, name string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, errorf(http.StatusBadRequest, "invalid %s %q: want a positive number", name, s)
	}
	return n, nil
}

// key orders listed records: by entity, then by a string (sender, domain).
type key struct {
	entity uint64
	s      string
}

func (k key) compare(o key) int {
	if c := cmp.Compare(k.entity, o.entity); c != 0 {
		return c
	}
	return strings.Compare(k.s, o.s)
}

// encodeCursor makes the opaque "after" value that resumes after k.
func encodeCursor(k key) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatUint(k.entity, 10) + ":" + k.s))
}

func decodeCursor(s string) (key, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	bad := errorf(http.StatusBadRequest, "invalid cursor %q: pass the next value of the previous page", s)
	if err != nil {
		return key{}, bad
	}
	id, rest, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseUint(id, 10, 64)
	if !ok || err != nil {
		return key{}, bad
	}
	return key{entity: n, s: rest}, nil
}

// page keeps the smallest limit+1 records after the cursor, in a max-heap,
// so that listing a page of a large index sorts only the page.
type page[T any] struct {
	limit int
	after *key
	keyOf func(T) key
	h     pageHeap[T]
}

func newPage[T any](limit int, after *key, keyOf func(T) key) *page[T] {
	return &page[T]{limit: limit, after: after, keyOf: keyOf}
}

// offer considers x for the page.
func (p *page[T]) offer(x T) {
	k := p.keyOf(x)
	if p.after != nil && k.compare(*p.after) <= 0 {
		return
	}
	if len(p.h) > p.limit && k.compare(p.h[0].k) >= 0 {
		return
	}
	heap.Push(&p.h, keyed[T]{k, x})
	if len(p.h) > p.limit+1 {
		heap.Pop(&p.h)
	}
}

// result returns the page in order and the cursor of the next one.
func (p *page[T]) result() ([]T, string) {
	slices.SortFunc(p.h, func(a, b keyed[T]) int { return a.k.compare(b.k) })
	n := min(len(p.h), p.limit)
	out := make([]T, n)
	for i := range out {
		out[i] = p.h[i].x
	}
	if len(p.h) > p.limit {
		return out, encodeCursor(p.h[n-1].k)
	}
	return out, ""
}

type keyed[T any] struct {
	k key
	x T
}

// pageHeap is a max-heap on key.
type pageHeap[T any] []keyed[T]

func (h pageHeap[T]) Len() int           { return len(h) }
func (h pageHeap[T]) Less(i, j int) bool { return h[i].k.compare(h[j].k) > 0 }
func (h pageHeap[T]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pageHeap[T]) Push(x any)        { *h = append(*h, x.(keyed[T])) }
func (h *pageHeap[T]) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
