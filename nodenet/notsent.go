package nodenet

import "errors"

// ErrNotSent marks a call that failed before its request left this node
// (the peer could not be dialled): the peer cannot have acted on it. Test
// with errors.Is; the error's message is the dial failure's.
var ErrNotSent = errors.New("inter-node request not sent")

// notSentError wraps a dial failure with ErrNotSent, keeping its message.
type notSentError struct{ error }

func (e notSentError) Unwrap() error        { return e.error }
func (e notSentError) Is(target error) bool { return target == ErrNotSent }
