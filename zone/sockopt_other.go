//go:build !unix

package zone

import "syscall"

// reusePort: without SO_REUSEPORT only one UDP socket can hold the port, so
// the server runs one reader.
const reusePort = false

func controlSocket(network, address string, c syscall.RawConn) error { return nil }

func controlShared(network, address string, c syscall.RawConn) error { return nil }

func sharePort(c syscall.RawConn) error { return nil }
