package qname

import "github.com/wlns/wlns/record"

// HashLabelLen is the length of a hashed-address label: 256 bits of SHA-256
// in unpadded base32.
const HashLabelLen = record.HashLabelLen
