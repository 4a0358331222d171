package command

import (
	"strings"
	"testing"
)

func TestTouchBody_CompactArrayForm(t *testing.T) {
	in := TouchBody{Entities: []TouchEntity{{ID: 7, Self: true, Age: 3,
		Pairs: []TouchItem{{"dave@umkc.edu", 42}}, Verps: []TouchItem{{"lists.example.org", 0}}}}}
	e, err := New(Touch, 1_700_000_000, "", in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"e":[{"i":7,"s":true,"a":3,"p":[["dave@umkc.edu",42]],"v":[["lists.example.org",0]]}]}`
	if string(e.Body) != want {
		t.Errorf("body = %s\nwant   %s", e.Body, want)
	}
	var out TouchBody
	if err := e.DecodeBody(&out); err != nil {
		t.Fatal(err)
	}
	if got := out.Entities[0]; got.ID != 7 || !got.Self || got.Age != 3 || got.Pairs[0] != (TouchItem{"dave@umkc.edu", 42}) || got.Verps[0].Key != "lists.example.org" {
		t.Errorf("decoded = %+v", got)
	}
}

func TestTouchItem_RejectsOtherShapes(t *testing.T) {
	for _, in := range []string{`{"e":[{"i":1,"p":[["a"]]}]}`, `{"e":[{"i":1,"p":[[1,"a"]]}]}`, `{"e":[{"i":1,"p":["a"]}]}`} {
		e := &Envelope{V: Version, Type: Touch, Time: 1, Body: []byte(in)}
		var b TouchBody
		if err := e.DecodeBody(&b); err == nil || !strings.Contains(err.Error(), "touch item") {
			t.Errorf("DecodeBody(%s) error = %v, want a touch item error", in, err)
		}
	}
}
