package admin

import (
	"reflect"
	"testing"
)

func TestParseLineFast_ReadsPlainLinesAndLeavesTheRestToJSON(t *testing.T) {
	for _, c := range []struct {
		line string
		ok   bool
		want ImportLine
	}{
		{`{"kind":"pair","sender":"a@b.example","ip":"192.0.2.1"}`, true, ImportLine{Kind: "pair", Sender: "a@b.example", IP: "192.0.2.1"}},
		{` { "kind" : "verp", "domain":"l.example" ,"entity":42,"pinned":true } `, true, ImportLine{Kind: "verp", Domain: "l.example", Entity: 42, Pinned: true}},
		{`{"kind":"relay","ip":"192.0.2.1","contact":"pm@a.example","ptr":"mx.a.example","pinned":false}`, true, ImportLine{Kind: "relay", IP: "192.0.2.1", Contact: "pm@a.example", PTR: "mx.a.example"}},
		{`{}`, true, ImportLine{}},
		{`{"kind":"pair","kind":"verp"}`, true, ImportLine{Kind: "verp"}}, // the last wins, as in encoding/json
		{`{"kind":"group","name":"g","members":["192.0.2.0/29"]}`, false, ImportLine{}},
		{`{"kind":"pair","sender":"a\u0040b.example"}`, false, ImportLine{}},
		{`{"kind":"pair","sender":"jörg@b.example"}`, false, ImportLine{}},
		{`{"Kind":"pair"}`, false, ImportLine{}},
		{`{"kind":"pair","other":1}`, false, ImportLine{}},
		{`{"entity":01}`, false, ImportLine{}},
		{`{"entity":1.5}`, false, ImportLine{}},
		{`{"entity":-1}`, false, ImportLine{}},
		{`{"entity":18446744073709551616}`, false, ImportLine{}},
		{`{"pinned":null}`, false, ImportLine{}},
		{`{"pinned":truex}`, false, ImportLine{}},
		{`{"kind":"pair",}`, false, ImportLine{}},
		{`{"kind":"pair"} x`, false, ImportLine{}},
		{`{"kind":"pair"`, false, ImportLine{}},
		{`{"sender":"a@b.example","sender":"c@b.example"}`, true, ImportLine{Sender: "c@b.example"}},
		{"{\"kind\":\"pair\"}\r\n", true, ImportLine{Kind: "pair"}},
		{`{"sender":"a@b.example","SENDER":"c@b.example"}`, false, ImportLine{}}, // encoding/json matches any case
		{`{"Sender":"a@b.example"}`, false, ImportLine{}},
		{"\ufeff{\"kind\":\"pair\"}", false, ImportLine{}},
		{"{\f\"kind\":\"pair\"}", false, ImportLine{}},
		{`{"sender":"a\/b@b.example"}`, false, ImportLine{}},
		{`{"sender":"a\u0000@b.example"}`, false, ImportLine{}},
		{`{"sender":"\ud800@b.example"}`, false, ImportLine{}},
		{`{"entity":1e3}`, false, ImportLine{}},
		{`{"entity":1E3}`, false, ImportLine{}},
		{`{"pinned":True}`, false, ImportLine{}},
	} {
		var l ImportLine
		ok := parseLineFast([]byte(c.line), &l)
		if ok != c.ok || ok && !reflect.DeepEqual(l, c.want) {
			t.Errorf("%s: ok %v %+v, want ok %v %+v", c.line, ok, l, c.ok, c.want)
		}
		var slow ImportLine
		if err := decodeObject([]byte(c.line), &slow); ok && (err != nil || !reflect.DeepEqual(l, slow)) {
			t.Errorf("%s: fast %+v, encoding/json %+v, %v", c.line, l, slow, err)
		}
	}
}

// FuzzParseLineFast: whatever the fast parser accepts, encoding/json
// (decodeObject) accepts too, with the same result.
func FuzzParseLineFast(f *testing.F) {
	f.Add([]byte(`{"kind":"pair","sender":"a@b.example","ip":"192.0.2.1","pinned":true}`))
	f.Add([]byte(`{"kind":"verp","domain":"l.example","entity":42}`))
	f.Add([]byte(`{"kind":"group","name":"g","members":["192.0.2.0/29"],"registered":false}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast ImportLine
		if !parseLineFast(b, &fast) {
			return
		}
		var slow ImportLine
		if err := decodeObject(b, &slow); err != nil {
			t.Fatalf("fast parser accepted %q, encoding/json did not: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", b, fast, slow)
		}
	})
}
