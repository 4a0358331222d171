//go:build !linux

package zone

// wildcardSupported: elsewhere a wildcard socket cannot choose the source
// address of its replies, so wildcard listen addresses are refused.
const wildcardSupported = false

func setPktinfo(fd int, network string) error { return nil }
