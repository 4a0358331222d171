package fsm

import (
	"cmp"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
)

// maxDismissals bounds the dismissals kept; a dismissal whose entities are
// gone is dropped at the next dismissal, so only live ones count.
const maxDismissals = 100_000

// dismissalKey is the form a dismissal is stored under: its sorted entity
// IDs, comma-separated.
func dismissalKey(ids []uint64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(id, 10))
	}
	return b.String()
}

func init() {
	registerKind(command.SuggestionDismiss, kind{apply: rejecting((*applier).suggestionDismiss), quiet: true})
}

// suggestionDismiss records a declined suggestion. Every entity must
// exist; dismissals naming a deleted entity are dropped (a suggestion of
// them can never come back: entity IDs are not reused). Dismissing the
// same entities again replaces the earlier dismissal.
func (a *applier) suggestionDismiss(e *command.Envelope) (command.Result, *command.Rejection) {
	var b command.SuggestionDismissBody
	if rej := decodeBody(e, &b); rej != nil {
		return command.Result{}, rej
	}
	if err := b.Validate(); err != nil {
		return command.Result{}, command.Reject(command.Invalid, "%v", err)
	}
	ids := slices.Compact(slices.Sorted(slices.Values(b.Entities)))
	if len(ids) < 2 {
		return command.Result{}, command.Reject(command.Invalid, "a suggestion has at least two entities")
	}
	v := a.view()
	for _, id := range ids {
		if !v.EntityRef(id).Found() {
			return command.Result{}, command.Reject(command.NotFound, "no entity %d", id)
		}
	}
	out := make(map[string]record.Dismissal, len(a.st.dismissed)+1)
	for k, d := range a.st.dismissed {
		if allFound(a, d.Entities) {
			out[k] = d
		}
	}
	key := dismissalKey(ids)
	_, again := out[key]
	if !again && len(out) >= maxDismissals {
		return command.Result{}, command.Reject(command.Conflict, "%d suggestions are dismissed already", len(out))
	}
	out[key] = record.Dismissal{Entities: ids, Shared: b.Shared, By: b.By, Time: e.Time}
	a.st.dismissed = out
	return command.Result{Created: !again}, nil
}

func allFound(a *applier, ids []uint64) bool {
	v := a.view()
	for _, id := range ids {
		if !v.EntityRef(id).Found() {
			return false
		}
	}
	return true
}

// sortedDismissals returns st's dismissals by key.
func (st state) sortedDismissals() []record.Dismissal {
	keys := slices.Sorted(maps.Keys(st.dismissed))
	out := make([]record.Dismissal, 0, len(keys))
	for _, k := range keys {
		out = append(out, st.dismissed[k])
	}
	return out
}

// errBadDismissal is a dismissal record a snapshot cannot hold.
var errBadDismissal = errors.New("a dismissal record with too few, too many or unsorted entities")

// tagDismissal is a dismissed suggestion: its entity IDs, shared senders,
// by and time. Written by builds that know suggestion.dismiss (envelope
// version 6) only when there are dismissals: an older build stops on the
// unknown tag, as it stops on the command.
const tagDismissal byte = 64

// dismissals writes ds, sorted by key.
func (sw *snapWriter) dismissals(ds []record.Dismissal) {
	e := &sw.e
	for _, d := range ds {
		e.uvarint(uint64(len(d.Entities)))
		for _, id := range d.Entities {
			e.uvarint(id)
		}
		e.uvarint(uint64(d.Shared))
		e.str(d.By)
		e.varint(d.Time)
		sw.record(tagDismissal)
	}
}

// restoreDismissal decodes one dismissal into the state being built.
func (rs *restored) restoreDismissal(d *dec) error {
	n := d.uvarint()
	if n < 2 || n > command.MaxDismissEntities {
		return errBadDismissal
	}
	ids := make([]uint64, 0, n)
	for range n {
		ids = append(ids, d.uvarint())
	}
	dm := record.Dismissal{Entities: ids, Shared: int(min(d.uvarint(), 1<<31)), By: d.str(), Time: d.varint()}
	if err := d.end(); err != nil {
		return err
	}
	if !slices.IsSortedFunc(ids, cmp.Compare[uint64]) {
		return errBadDismissal
	}
	rs.st.dismissed[dismissalKey(ids)] = dm
	return nil
}

// Dismissals returns the dismissed suggestions, sorted by their entities.
func (f *FSM) Dismissals() []record.Dismissal { return f.dism.Load().sortedDismissals() }
