package kit

import (
	"bufio"
	"fmt"
	"path/filepath"
)

// The answer every server gives for a listed relay, and its SOA values.
const (
	// RelayCode is the A record of a listed relay (wlns' registered relay).
	RelayCode = "127.0.2.1"
	// RelayText is rbldnsd's and NSD's TXT for a listed relay.
	RelayText = "wlns bench: registered relay"
	// NegTTL is the SOA minimum, the negative-answer TTL.
	NegTTL = 60
)

// WriteRbldnsd writes an rbldnsd ip4set: SOA and NS, the default A and TXT
// value, then one address per line.
func WriteRbldnsd(w *bufio.Writer, listed []IP4, zone string) error {
	fmt.Fprintf(w, "$SOA 3600 ns.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 %d\n", zone, NegTTL)
	fmt.Fprintf(w, "$NS 3600 ns.%s.\n", zone)
	fmt.Fprintf(w, ":%s:%s\n", RelayCode, RelayText)
	for _, a := range listed {
		if _, err := fmt.Fprintln(w, a.String()); err != nil {
			return err
		}
	}
	return nil
}

// StartRbldnsd serves the ip4set file at data as relay.<zone> on a free
// loopback port; cpus pins it (see Launch). It returns once rbldnsd runs,
// not once it has loaded (wait with WaitAnswer). The file's folder must be
// readable by the rbldns user: rbldnsd refuses to run as root.
func StartRbldnsd(data, zone, logPath, cpus string) (*Proc, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	argv := []string{"rbldnsd", "-n", "-a", "-u", "rbldns", "-c", "0",
		"-b", "127.0.0.1/" + port, "-w", filepath.Dir(data),
		"relay." + zone + ":ip4set:" + filepath.Base(data)}
	r, err := Launch("rbldnsd", argv, nil, logPath, cpus)
	if err != nil {
		return nil, err
	}
	r.Addr = "127.0.0.1:" + port
	return r, nil
}
