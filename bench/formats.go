package main

import (
	"bufio"
	"fmt"
)

// The answer every server gives for a listed relay, and its SOA values.
const (
	relayCode = "127.0.2.1"
	relayText = "wlns bench: registered relay"
	negTTL    = 60
)

// writeRbldnsd writes an rbldnsd ip4set: SOA and NS, the default A and TXT
// value, then one address per line.
func writeRbldnsd(w *bufio.Writer, d *dataset, zone string) error {
	fmt.Fprintf(w, "$SOA 3600 ns.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 %d\n", zone, negTTL)
	fmt.Fprintf(w, "$NS 3600 ns.%s.\n", zone)
	fmt.Fprintf(w, ":%s:%s\n", relayCode, relayText)
	for _, a := range d.listed {
		if _, err := fmt.Fprintln(w, a.String()); err != nil {
			return err
		}
	}
	return nil
}

// writeNSDZone writes relay.<zone> as a zone file: an A and a TXT per
// listed address.
func writeNSDZone(w *bufio.Writer, d *dataset, zone string) error {
	fmt.Fprintf(w, "$ORIGIN relay.%s.\n$TTL 300\n", zone)
	fmt.Fprintf(w, "@ 3600 IN SOA ns.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 %d\n", zone, negTTL)
	fmt.Fprintf(w, "@ 3600 IN NS ns.%s.\n", zone)
	for _, a := range d.listed {
		if _, err := fmt.Fprintf(w, "%s IN A %s\n IN TXT %q\n", a.rev(), relayCode, relayText); err != nil {
			return err
		}
	}
	return nil
}

// writeWlnsImport writes NDJSON for `wlns import` (POST /v1/import): every
// listed address as a registered relay, then one sender/relay pair per relay.
func writeWlnsImport(w *bufio.Writer, d *dataset) error {
	for _, a := range d.listed {
		if _, err := fmt.Fprintf(w, `{"kind":"relay","ip":"%s","contact":"postmaster@bench.invalid"}`+"\n", a); err != nil {
			return err
		}
	}
	for i, a := range d.listed {
		if _, err := fmt.Fprintf(w, `{"kind":"pair","sender":"%s","ip":"%s"}`+"\n", sender(i), a); err != nil {
			return err
		}
	}
	return nil
}
