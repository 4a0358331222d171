package policy

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// postfixRequest is the request Postfix 3.7.11 sent at RCPT, as recorded in
// the research notes.
const postfixRequest = "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n" +
	"client_address=127.0.0.5\nclient_name=unknown\nclient_port=37537\nreverse_client_name=unknown\n" +
	"server_address=127.0.0.1\nserver_port=2525\nhelo_name=relay.example\nsender=alice@example.com\n" +
	"recipient=rcpt@wlns.test\nrecipient_count=0\nqueue_id=\ninstance=5c.6b03f5f9.1191d.0\nsize=0\n" +
	"etrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\nccert_subject=\nccert_issuer=\n" +
	"ccert_fingerprint=\nccert_pubkey_fingerprint=\nencryption_protocol=\nencryption_cipher=\n" +
	"encryption_keysize=0\npolicy_context=\n\n"

func TestReadRequest_Parses(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Request
	}{
		{"postfix 3.7 request", postfixRequest, Request{Request: "smtpd_access_policy", ProtocolState: "RCPT",
			Sender: "alice@example.com", Recipient: "rcpt@wlns.test", ClientAddress: "127.0.0.5",
			Instance: "5c.6b03f5f9.1191d.0"}},
		{"any order, unknown ignored", "future_attr=x\nsender=a@b.example\nclient_address=192.0.2.1\nrequest=smtpd_access_policy\nprotocol_state=MAIL\n\n",
			Request{Request: "smtpd_access_policy", ProtocolState: "MAIL", Sender: "a@b.example", ClientAddress: "192.0.2.1"}},
		{"CRLF line ends", "request=smtpd_access_policy\r\nsender=a@b.example\r\n\r\n",
			Request{Request: "smtpd_access_policy", Sender: "a@b.example"}},
		{"first of a repeated attribute wins", "sender=a@b.example\nsender=evil@c.example\n\n",
			Request{Sender: "a@b.example"}},
		{"value may contain =", "sasl_username=user=x\n\n", Request{SASLUsername: "user=x"}},
		{"empty value", "sender=\nclient_address=::1\n\n", Request{ClientAddress: "::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadRequest(bufio.NewReader(strings.NewReader(tt.in)), Limits{})
			if err != nil {
				t.Fatalf("ReadRequest: %v", err)
			}
			if *got != tt.want {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestReadRequest_RejectsMalformed(t *testing.T) {
	lim := Limits{MaxLine: 64, MaxRequest: 256}
	tests := []struct {
		name, in string
	}{
		{"line without =", "request=smtpd_access_policy\nnonsense\n\n"},
		{"empty name", "=value\n\n"},
		{"empty request", "\n"},
		{"connection closed inside a request", "request=smtpd_access_policy\nsender=a@b.example\n"},
		{"last line without newline", "request=smtpd_access_policy"},
		{"line over the limit", "sender=" + strings.Repeat("a", 80) + "\n\n"},
		{"line far over the buffer", "sender=" + strings.Repeat("a", 10000) + "\n\n"},
		{"request over the limit", strings.Repeat("x_attr=0123456789\n", 20) + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRequest(bufio.NewReaderSize(strings.NewReader(tt.in), 16), lim)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestReadRequest_ConsecutiveRequestsThenEOF(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("sender=a@b.example\n\nsender=c@d.example\n\n"))
	for _, want := range []string{"a@b.example", "c@d.example"} {
		req, err := ReadRequest(r, Limits{})
		if err != nil || req.Sender != want {
			t.Fatalf("got %+v, %v; want sender %s", req, err, want)
		}
	}
	if _, err := ReadRequest(r, Limits{}); err != io.EOF {
		t.Fatalf("after the last request: err = %v, want io.EOF", err)
	}
}

func FuzzReadRequest(f *testing.F) {
	f.Add([]byte(postfixRequest))
	f.Add([]byte("sender=a@b\r\n\r\nsender=c\n\n"))
	f.Add([]byte("=\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReaderSize(strings.NewReader(string(in)), 16)
		lim := Limits{MaxLine: 100, MaxRequest: 300}
		for i := 0; i < 1000; i++ {
			req, err := ReadRequest(r, lim)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrMalformed) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			for _, v := range []string{req.Request, req.ProtocolState, req.Sender, req.Recipient, req.ClientAddress, req.SASLUsername, req.QueueID, req.Instance} {
				if len(v) > lim.MaxLine || strings.ContainsAny(v, "\n") {
					t.Fatalf("value %q breaks the limits", v)
				}
			}
		}
	})
}
