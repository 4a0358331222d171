package suggest

import "github.com/wlns/wlns/record"

// Renewal is how much a dismissed suggestion's evidence must grow before
// it is listed again: its strongest link must share at least Renewal times
// the senders it shared when it was dismissed.
const Renewal = 2

// WithoutDismissed returns list without the suggestions a person dismissed,
// in the same order: a dismissal hides the suggestion of exactly its
// entities (a relay that joins or leaves the pool makes a new suggestion,
// listed again) until the evidence has grown Renewal-fold; such a renewed
// suggestion comes back with Dismissed set. list is not changed.
func WithoutDismissed(list []Suggestion, dismissed []record.Dismissal) []Suggestion {
	if len(dismissed) == 0 {
		return list
	}
	byID := make(map[string]*record.Dismissal, len(dismissed))
	for i := range dismissed {
		byID[ID(dismissed[i].Entities)] = &dismissed[i]
	}
	out := make([]Suggestion, 0, len(list))
	for _, s := range list {
		d := byID[s.ID]
		switch {
		case d == nil:
		case s.Links[0].Shared < Renewal*max(d.Shared, 1):
			continue
		default:
			s.Dismissed = d
		}
		out = append(out, s)
	}
	return out
}
