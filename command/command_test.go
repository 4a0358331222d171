package command

import (
	"errors"
	"testing"
)

func TestEnvelope_RoundTrip(t *testing.T) {
	e, err := New(PairPut, 1_700_000_000, "req-1", PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.4"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.V != 1 || got.Type != PairPut || got.Time != 1_700_000_000 || got.ReqID != "req-1" {
		t.Errorf("decoded envelope = %+v", got)
	}
	var body PairBody
	if err := got.DecodeBody(&body); err != nil {
		t.Fatal(err)
	}
	if body.Sender != "dave@umkc.edu" || body.IP != "192.0.2.4" {
		t.Errorf("decoded body = %+v", body)
	}
}

func TestDecode_RejectsNewerAndBrokenEntries(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want error
	}{
		{"newer version", `{"v":99,"type":"pair.put","time":1,"body":{}}`, ErrUnsupported},
		{"no version", `{"type":"pair.put","time":1,"body":{}}`, ErrUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Decode([]byte(c.in)); !errors.Is(err, c.want) {
				t.Errorf("Decode error = %v, want %v", err, c.want)
			}
		})
	}
	if _, err := Decode([]byte(`{"v":1,`)); err == nil {
		t.Error("truncated entry decoded without error")
	}
}

func TestRejection_Error(t *testing.T) {
	r := Reject(Conflict, "prefix %s belongs to entity %d", "192.0.2.0/24", 7)
	if got, want := r.Error(), "conflict: prefix 192.0.2.0/24 belongs to entity 7"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
