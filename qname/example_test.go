package qname_test

import (
	"fmt"
	"net/netip"

	"github.com/wlns/wlns/qname"
)

func ExampleSender() {
	ip := netip.MustParseAddr("192.0.2.4")
	for _, form := range []qname.Form{qname.Escaped, qname.Plain} {
		name, err := qname.Sender("First.Last@umkc.edu", ip, "wl.example.org", form)
		if err != nil {
			panic(err)
		}
		fmt.Println(name)
	}
	// Output:
	// first\.last.umkc.edu.4.2.0.192.sender.wl.example.org.
	// first.last.umkc.edu.4.2.0.192.sender.wl.example.org.
}

func ExampleRelay() {
	fmt.Println(qname.Relay(netip.MustParseAddr("2001:db8::25"), "wl.example.org"))
	// Output:
	// 5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.relay.wl.example.org.
}
