package main

import (
	"bufio"
	"fmt"

	"github.com/wlns/wlns/bench/internal/kit"
)

// writeNSDZone writes relay.<zone> as a zone file: an A and a TXT per
// listed address.
func writeNSDZone(w *bufio.Writer, d *dataset, zone string) error {
	fmt.Fprintf(w, "$ORIGIN relay.%s.\n$TTL 300\n", zone)
	fmt.Fprintf(w, "@ 3600 IN SOA ns.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 %d\n", zone, kit.NegTTL)
	fmt.Fprintf(w, "@ 3600 IN NS ns.%s.\n", zone)
	for _, a := range d.listed {
		if _, err := fmt.Fprintf(w, "%s IN A %s\n IN TXT %q\n", a.Rev(), kit.RelayCode, kit.RelayText); err != nil {
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
