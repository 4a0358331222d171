package command

import (
	"errors"
	"fmt"
)

// SuggestionDismiss records that a person declined a suggested group
// (envelope version 6): the suggestion of the same entities is not listed
// again until its evidence has doubled.
const SuggestionDismiss Type = "suggestion.dismiss"

func init() {
	register(Kind{Type: SuggestionDismiss, Since: 6, Body: bodyOf[SuggestionDismissBody]()})
}

// MaxDismissEntities bounds the entities of one dismissal.
const MaxDismissEntities = 1000

// SuggestionDismissBody is the body of SuggestionDismiss.
type SuggestionDismissBody struct {
	// Entities are the suggestion's entity IDs (the suggestion ID is
	// derived from them).
	Entities []uint64 `json:"entities"`
	// Shared is the strongest link's shared senders when it was dismissed.
	Shared int `json:"shared"`
	// By is the token that dismissed it.
	By string `json:"by,omitempty"`
}

// Validate checks the body's shape.
func (b *SuggestionDismissBody) Validate() error {
	switch {
	case len(b.Entities) < 2:
		return errors.New("a suggestion has at least two entities")
	case len(b.Entities) > MaxDismissEntities:
		return fmt.Errorf("a dismissal names at most %d entities", MaxDismissEntities)
	case b.Shared < 0:
		return errors.New("shared senders cannot be negative")
	}
	for _, id := range b.Entities {
		if id == 0 {
			return errors.New("entity ID 0")
		}
	}
	return nil
}
