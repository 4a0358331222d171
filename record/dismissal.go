package record

// Dismissal is a suggested group a person declined: the entities it named
// and how strong its evidence was then.
type Dismissal struct {
	// Entities are the suggestion's entity IDs, sorted.
	Entities []uint64 `json:"entities"`
	// Shared is the strongest link's shared senders at the dismissal.
	Shared int `json:"shared"`
	// By is who dismissed it.
	By string `json:"by,omitempty"`
	// Time is when, Unix seconds.
	Time int64 `json:"time"`
}
