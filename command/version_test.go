package command

import (
	"encoding/json"
	"testing"
)

// decodeAs is Decode as a build that writes version maxV would run it: it
// accepts an entry only when V is at most maxV.
func decodeAs(t *testing.T, maxV int, b []byte) bool {
	t.Helper()
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return e.V >= 1 && e.V <= maxV
}

func mustNew(t testing.TB, ty Type, body any) *Envelope {
	t.Helper()
	e, err := New(ty, 1_700_000_000, "r", body)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNew_StampsTheVersionThatIntroducedTheCommand(t *testing.T) {
	open := mustNew(t, ChallengeOpen, ChallengeOpenBody{ID: "c1"})
	pair := mustNew(t, PairPut, PairBody{Sender: "dave@umkc.edu", IP: "192.0.2.4"})
	touch := mustNew(t, Touch, TouchBody{})
	cases := []struct {
		name string
		t    Type
		body any
		want int
	}{
		{"entity.put", EntityPut, EntityBody{Name: "umkc"}, 1},
		{"entity.delete", EntityDelete, EntityBody{ID: 7}, 1},
		{"members.add", MembersAdd, MembersBody{Entity: 7, Prefixes: []string{"192.0.2.0/24"}}, 1},
		{"members.remove", MembersRemove, MembersBody{Entity: 7}, 1},
		{"pair.put", PairPut, PairBody{Sender: "dave@umkc.edu"}, 1},
		{"pair.delete", PairDelete, PairBody{Sender: "dave@umkc.edu"}, 1},
		{"verp.put", VerpPut, VerpBody{Domain: "lists.example"}, 1},
		{"verp.delete", VerpDelete, VerpBody{Domain: "lists.example"}, 1},
		{"token.put admin", TokenPut, TokenBody{Name: "ops", Role: "admin"}, 1},
		{"token.put postmaster", TokenPut, TokenBody{Name: "pm", Role: "postmaster", Prefixes: []string{"192.0.2.0/24"}}, 1},
		{"token.put read", TokenPut, TokenBody{Name: "ro", Role: "read"}, 1},
		{"token.put mta", TokenPut, TokenBody{Name: "postfix", Role: "mta"}, 3},
		{"token.delete", TokenDelete, TokenBody{Name: "ops"}, 1},
		{"touch", Touch, TouchBody{Entities: []TouchEntity{{ID: 7, Self: true}}}, 2},
		{"expire", Expire, ExpireBody{Pairs: 1}, 2},
		{"expire with challenges", Expire, ExpireBody{Pairs: 1, Challenges: 1}, 2},
		{"challenge.open", ChallengeOpen, ChallengeOpenBody{ID: "c1"}, 3},
		{"challenge.open fixed limits", ChallengeOpen, ChallengeOpenBody{ID: "c1", Limits: ChallengeLimits{Window: 60, PerDomain: 5}}, 3},
		{"challenge.open sliding", ChallengeOpen, ChallengeOpenBody{ID: "c1", Limits: ChallengeLimits{Window: 60, Sliding: true}}, 4},
		{"challenge.open per domain and relay", ChallengeOpen, ChallengeOpenBody{ID: "c1", Limits: ChallengeLimits{Window: 60, PerDomainRelay: 5}}, 4},
		{"challenge.sent", ChallengeSent, ChallengeSentBody{ID: "c1"}, 3},
		{"challenge.confirm", ChallengeConfirm, ChallengeConfirmBody{Method: "link"}, 3},
		{"challenge.report", ChallengeReport, ChallengeReportBody{Report: "forgery"}, 3},
		{"zone.put", ZoneRecordPut, ZoneRecordBody{Name: "ns1", Type: "A", Data: "192.0.2.53"}, 5},
		{"zone.delete", ZoneRecordDelete, ZoneRecordBody{Name: "ns1"}, 5},
		{"batch with a zone record", Batch, BatchBody{Commands: []Envelope{*pair, {V: 5, Type: ZoneRecordPut, Body: []byte(`{"name":"@"}`)}}}, 5},
		{"delegation.put", DelegationPut, DelegationBody{Prefix: "192.0.2.0/24", NS: []DelegationNS{{Name: "ns.example"}}}, 5},
		{"delegation.delete", DelegationDelete, DelegationBody{Prefix: "192.0.2.0/24"}, 5},
		{"suggestion.dismiss", SuggestionDismiss, SuggestionDismissBody{Entities: []uint64{1, 2}, Shared: 12}, 6},
		{"zone.serial", ZoneSerial, ZoneSerialBody{Above: 7}, 6},
		{"pair.put quoted", PairPut, PairBody{Sender: `" a"@b.example`}, 8},
		{"pair.put unquoted with a space", PairPut, PairBody{Sender: "john doe@b.example"}, 1},
		{"pair.delete quoted", PairDelete, PairBody{Sender: `"\"a\""@b.example`}, 8},
		{"challenge.open quoted", ChallengeOpen, ChallengeOpenBody{ID: "c1", Sender: `" a"@b.example`}, 8},
		{"challenge.open quoted, sliding", ChallengeOpen, ChallengeOpenBody{ID: "c1", Sender: `" a"@b.example`, Limits: ChallengeLimits{Window: 60, Sliding: true}}, 8},
		{"batch with a quoted pair", Batch, BatchBody{Commands: []Envelope{*pair, *mustNew(t, PairPut, PairBody{Sender: `" a"@b.example`})}}, 8},
		{"batch of pairs", Batch, BatchBody{Commands: []Envelope{*pair, *pair}}, 1},
		{"batch with a touch", Batch, BatchBody{Commands: []Envelope{*pair, *touch}}, 2},
		{"batch with a challenge", Batch, BatchBody{Commands: []Envelope{*pair, *open}}, 3},
		{"batch whose command claims more", Batch, BatchBody{Commands: []Envelope{{V: 3, Type: PairPut, Body: pair.Body}}}, 3},
		{"empty batch", Batch, BatchBody{}, 1},
		{"unknown type", Type("future.thing"), struct{}{}, Version},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := mustNew(t, c.t, c.body)
			if e.V != c.want {
				t.Fatalf("New(%s).V = %d, want %d", c.t, e.V, c.want)
			}
			b, err := e.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Decode(b); err != nil {
				t.Errorf("this build does not decode its own entry: %v", err)
			}
			for older := 1; older <= Version; older++ {
				if got, want := decodeAs(t, older, b), older >= c.want; got != want {
					t.Errorf("a version-%d build accepts it: %v, want %v", older, got, want)
				}
			}
		})
	}
}
