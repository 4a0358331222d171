// Command bench is the `make bench` driver: it compares wlns with rbldnsd and
// NSD under dnsperf on loopback, all loaded with the same deterministic
// dataset of random IPv4 relay addresses (wlns also with one sender/relay
// pair per relay), and prints queries/s, server CPU per answered query and
// resident memory for each, with ratios to rbldnsd.
//
// It owns only the benchmark: dataset generation, the servers' throw-away
// configurations, process accounting from /proc and the report. It talks to
// wlns only through the binary (serve, import) and DNS, never through wlns
// packages. docs/performance.md explains the method and holds the results.
//
// Usage:
//
//	go run ./bench [-quick] [-n 1000000] [-duration 15s] [-out bench/out]
package main
