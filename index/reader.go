package index

// Reader is the read side of an Index: the current View, and a hook on
// each View as it is published. Everything that reads the whitelist (the
// zone, the API, the console, WHOIS, expiry, suggestions) is handed a
// Reader, so only the writer that holds the Index itself, the state
// machine (package fsm), can begin a transaction.
type Reader interface {
	// Load returns the current View (see Index.Load).
	Load() *View
	// OnPublish registers f, called with every View before readers can
	// Load it (see Index.OnPublish).
	OnPublish(f func(*View))
}

var _ Reader = (*Index)(nil)

// Reader returns ix's read side as a value no type assertion turns back
// into the *Index (an *Index held as a Reader is one assertion away from
// Begin).
func (ix *Index) Reader() Reader { return readOnly{ix: ix} }

// readOnly is an Index behind its Reader methods only.
type readOnly struct{ ix *Index }

// Load returns the current View.
func (r readOnly) Load() *View { return r.ix.Load() }

// OnPublish registers f with the Index.
func (r readOnly) OnPublish(f func(*View)) { r.ix.OnPublish(f) }
