// Package suggest finds relays that should probably be one group: lone
// relays, or a lone relay and a group, through which many of the same
// senders were verified. A big provider sends one user's mail from many
// addresses, so that user's sender is confirmed once through each of them;
// relays that share many senders are one operator's pool.
//
// Find reads an index View and never writes it; the same View gives the
// same suggestions in the same order. Nothing here groups anything: the API
// shows the suggestions and a person accepts them through the normal
// command path.
//
// The work is one pass over the pairs (digest and entity, 16 bytes each),
// one sort, and a count of the entity pairs that share a digest. A digest
// held by more than Config.MaxPerSender entities (a mailing list, a
// provider's bounce address) is skipped: it says nothing about who belongs
// together and would cost n² entity pairs.
package suggest
