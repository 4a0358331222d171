package command

import (
	"bytes"
	"testing"
)

func TestEncodeGroup_SameEntryAsEncodingTheGroup(t *testing.T) {
	mk := func(typ Type, now int64, req string, body any) *Envelope {
		t.Helper()
		e, err := New(typ, now, req, body)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, tc := range []struct {
		name string
		cmds []*Envelope
	}{
		{"pairs", []*Envelope{
			mk(PairPut, 1_700_000_000, "r1", PairBody{Sender: "a@example.org", IP: "192.0.2.1"}),
			mk(PairPut, 1_700_000_001, "", PairBody{Sender: "<b>&\"c\"@example.org", IP: "192.0.2.2"}),
		}},
		{"a newer command sets the version", []*Envelope{
			mk(PairPut, 1_700_000_000, "r1", PairBody{Sender: "a@example.org", IP: "192.0.2.1"}),
			mk(TokenPut, 1_700_000_002, "r2", TokenBody{Name: "mx", Role: roleMTA}),
			mk(ZoneSerial, 1_700_000_003, "", ZoneSerialBody{}),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := GroupBody{}
			raw := make([][]byte, len(tc.cmds))
			for i, e := range tc.cmds {
				body.Commands = append(body.Commands, *e)
				b, err := e.Encode()
				if err != nil {
					t.Fatal(err)
				}
				raw[i] = b
			}
			now := tc.cmds[len(tc.cmds)-1].Time
			want, err := mk(Group, now, "", body).Encode()
			if err != nil {
				t.Fatal(err)
			}
			if got := EncodeGroup(now, tc.cmds, raw); !bytes.Equal(got, want) {
				t.Errorf("EncodeGroup:\n%s\nwant (New + Encode):\n%s", got, want)
			}
		})
	}
}
