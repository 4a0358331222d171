package systest

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// header builds a 12-byte DNS header: id, flags, and the four counts.
func header(id, flags, qd, an, ns, ar uint16) []byte {
	b := make([]byte, 12)
	for i, v := range []uint16{id, flags, qd, an, ns, ar} {
		binary.BigEndian.PutUint16(b[2*i:], v)
	}
	return b
}

// question appends a raw name and type A class IN.
func question(h []byte, rawName ...byte) []byte {
	return append(append(h, rawName...), 0, 1, 0, 1)
}

// longName is a wire name of five 63-octet labels: 325 octets, over the
// 255-octet limit.
func longName() []byte {
	var b []byte
	for range 5 {
		b = append(b, 63)
		b = append(b, strings.Repeat("a", 63)...)
	}
	return append(b, 0)
}

func TestDNS_SurvivesMalformedPackets(t *testing.T) {
	n := startNode(t, "")
	malformed := []struct {
		name   string
		pkt    []byte
		silent bool // no reply at all is the only right answer
	}{
		{"empty", nil, false},
		{"one byte", []byte{0x42}, false},
		{"truncated header", header(1, 0, 1, 0, 0, 0)[:11], false},
		{"header without its question", header(2, 0, 1, 0, 0, 0), false},
		{"two questions, one present", question(header(3, 0, 2, 0, 0, 0), 0), false},
		{"300-octet name", question(header(4, 0, 1, 0, 0, 0), longName()...), false},
		{"compression pointer to itself", question(header(5, 0, 1, 0, 0, 0), 0xC0, 12), false},
		{"compression loop of two pointers", append(header(6, 0, 1, 0, 0, 0), 0xC0, 14, 0xC0, 12, 0, 1, 0, 1), false},
		{"pointer past the end", question(header(7, 0, 1, 0, 0, 0), 0xC0, 0xFF), false},
		{"label longer than the packet", append(header(8, 0, 1, 0, 0, 0), 40, 'a', 'b'), false},
		{"a response, not a query", question(header(9, 0x8000, 1, 0, 0, 0), 0), true},
	}
	conn, err := net.Dial("udp", n.ready.DNSUDP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range malformed {
		if _, err := conn.Write(m.pkt); err != nil {
			t.Fatalf("%s: sending: %v", m.name, err)
		}
		if reply, ok := readReply(conn, 300*time.Millisecond); ok {
			if m.silent {
				t.Errorf("%s: got reply %x, want none (answering responses invites loops)", m.name, reply)
			} else if !acceptableErrorReply(reply, m.pkt) {
				t.Errorf("%s: reply %x, want none or FORMERR/NOTIMP with the query's ID", m.name, reply)
			}
		}
	}
	// Random junk, seeded so a failure can be replayed.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		pkt := make([]byte, rng.IntN(600))
		for i := range pkt {
			pkt[i] = byte(rng.Uint32())
		}
		_, _ = conn.Write(pkt)
	}
	sendTCPJunk(t, n.ready.DNSTCP)

	// The server is still up and still right, over both transports.
	select {
	case <-n.done:
		t.Fatalf("wlns exited after malformed input (%v):\n%s", n.waitErr, n.logTail())
	default:
	}
	clients := []dnsClient{{"miekg/udp", miekgAsk("udp")}, {"miekg/tcp", miekgAsk("tcp")}}
	check(t, clients, n.ready.DNSUDP, "2.0.0.127.relay."+apex, dns.TypeA, listedA(codeRelay))
	check(t, clients, n.ready.DNSUDP, "1.0.0.127.relay."+apex, dns.TypeA, nxdomain)
}

// readReply waits up to d for one datagram.
func readReply(conn net.Conn, d time.Duration) ([]byte, bool) {
	buf := make([]byte, 65535)
	_ = conn.SetReadDeadline(time.Now().Add(d))
	k, err := conn.Read(buf)
	if err != nil {
		return nil, false
	}
	return buf[:k], true
}

// acceptableErrorReply: a reply to a malformed query must be an error
// response to that query (same ID, QR set, FORMERR or NOTIMP), never data.
func acceptableErrorReply(reply, query []byte) bool {
	if len(reply) < 12 || len(query) < 2 {
		return false
	}
	if reply[0] != query[0] || reply[1] != query[1] || reply[2]&0x80 == 0 {
		return false
	}
	rcode := reply[3] & 0x0F
	ancount := binary.BigEndian.Uint16(reply[6:])
	return ancount == 0 && (rcode == dns.RcodeFormatError || rcode == dns.RcodeNotImplemented)
}

// sendTCPJunk opens a few TCP connections that misbehave: a length prefix
// promising more than is sent, garbage framed as a query, and a prefix cut
// in half.
func sendTCPJunk(t *testing.T, addr string) {
	t.Helper()
	for _, payload := range [][]byte{
		{0xFF, 0xFF, 1, 2, 3},
		append([]byte{0, 14}, 0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		framed(question(header(10, 0, 1, 0, 0, 0), 0xC0, 12)),
		framed(question(header(11, 0, 1, 0, 0, 0), longName()...)),
		{0x00},
	} {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dialling TCP %s: %v", addr, err)
		}
		_, _ = c.Write(payload)
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, _ = c.Read(make([]byte, 512))
		c.Close()
	}
}

// framed prefixes a message with its two-byte TCP length.
func framed(msg []byte) []byte {
	return append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...)
}
