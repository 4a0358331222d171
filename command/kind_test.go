package command

import "testing"

// TestSummary_DescribesEachSpoolableKind: every kind a node may spool
// says what it is about in GET /v1/spool; others, and bodies that do not
// decode, are named by their type.
func TestSummary_DescribesEachSpoolableKind(t *testing.T) {
	cases := []struct {
		e    *Envelope
		want string
	}{
		{mustNew(t, PairPut, PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.4"}), "dave@umkc.edu through 192.0.2.4"},
		{mustNew(t, VerpPut, VerpBody{Domain: "lists.example", Entity: 7}), "VERP lists.example at entity 7"},
		{mustNew(t, EntityPut, EntityBody{Group: true, Name: "umkc", Prefixes: []string{"192.0.2.0/24"}}), "group umkc [192.0.2.0/24]"},
		{mustNew(t, MembersAdd, MembersBody{Entity: 7, Prefixes: []string{"192.0.2.9"}}), "entity 7 + [192.0.2.9]"},
		{mustNew(t, ChallengeConfirm, ChallengeConfirmBody{TokenHash: "0123456789abcdef", Method: "link"}), "confirmation by link of token 0123456789ab…"},
		{mustNew(t, ChallengeReport, ChallengeReportBody{TokenHash: "ab", Report: "forgery"}), "forgery report on token ab"},
		{mustNew(t, PairDelete, PairBody{Sender: "dave@umkc.edu"}), "pair.delete"},
		{&Envelope{Type: PairPut, Body: []byte(`[`)}, "pair.put"},
	}
	for _, c := range cases {
		if got := Summary(c.e); got != c.want {
			t.Errorf("Summary(%s) = %q, want %q", c.e.Type, got, c.want)
		}
		if k, _ := KindOf(c.e.Type); k.Spoolable != (k.Summary != nil) {
			t.Errorf("%s: spoolable %v but summary %v", c.e.Type, k.Spoolable, k.Summary != nil)
		}
	}
}

// TestKinds_EachHasABodyAndAVersionThisBuildWrites: every registered kind
// decodes into a body and came with a version this build reads.
func TestKinds_EachHasABodyAndAVersionThisBuildWrites(t *testing.T) {
	if len(Types()) < 23 {
		t.Fatalf("only %d kinds registered: %v", len(Types()), Types())
	}
	for _, ty := range Types() {
		k, _ := KindOf(ty)
		if k.Body == nil || k.Body() == nil || k.Since < 1 || k.Since > Version {
			t.Errorf("%s: body %v, since %d", ty, k.Body != nil, k.Since)
		}
	}
}
