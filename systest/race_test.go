//go:build race

package systest

// raceEnabled makes TestMain build the server with the race detector too, so
// the system tests also hunt data races in the real, concurrent server.
const raceEnabled = true
