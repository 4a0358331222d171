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
