package command

import (
	"strings"
	"testing"
)

const hash64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

func validOpen() ChallengeOpenBody {
	return ChallengeOpenBody{ID: "c1", Kind: "pair", Sender: "dave@umkc.edu", IP: "192.0.2.4", TokenHash: hash64, TTL: 3600,
		Limits: ChallengeLimits{Window: 3600, PerSender: 3}}
}

func TestChallengeOpenBody_Validate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*ChallengeOpenBody)
		want   string // "" for valid
	}{
		{"valid pair", func(*ChallengeOpenBody) {}, ""},
		{"valid verp", func(b *ChallengeOpenBody) {
			b.Kind, b.Domain, b.Sender = "verp", "lists.example", "postmaster@lists.example"
		}, ""},
		{"valid by entity", func(b *ChallengeOpenBody) { b.IP, b.Entity = "", 7 }, ""},
		{"upper-case hash", func(b *ChallengeOpenBody) { b.TokenHash = strings.ToUpper(hash64) }, ""},
		{"no limits", func(b *ChallengeOpenBody) { b.Limits = ChallengeLimits{} }, ""},
		{"no id", func(b *ChallengeOpenBody) { b.ID = "" }, "challenge id"},
		{"id with slash", func(b *ChallengeOpenBody) { b.ID = "a/b" }, "only letters"},
		{"id too long", func(b *ChallengeOpenBody) { b.ID = strings.Repeat("a", 65) }, "challenge id"},
		{"unknown kind", func(b *ChallengeOpenBody) { b.Kind = "relay" }, "not pair or verp"},
		{"verp without domain", func(b *ChallengeOpenBody) { b.Kind = "verp" }, "needs the list domain"},
		{"pair with domain", func(b *ChallengeOpenBody) { b.Domain = "x.example" }, "only for a verp"},
		{"no sender", func(b *ChallengeOpenBody) { b.Sender = "" }, "sender"},
		{"domain as sender", func(b *ChallengeOpenBody) { b.Sender = "umkc.edu" }, "sender"},
		{"long sender", func(b *ChallengeOpenBody) { b.Sender = strings.Repeat("a", 250) + "@x.example" }, "sender"},
		{"entity and ip", func(b *ChallengeOpenBody) { b.Entity = 3 }, "exactly one"},
		{"neither entity nor ip", func(b *ChallengeOpenBody) { b.IP = "" }, "exactly one"},
		{"short hash", func(b *ChallengeOpenBody) { b.TokenHash = hash64[:63] }, "token_hash"},
		{"non-hex hash", func(b *ChallengeOpenBody) { b.TokenHash = "z" + hash64[1:] }, "token_hash"},
		{"zero ttl", func(b *ChallengeOpenBody) { b.TTL = 0 }, "ttl"},
		{"ttl too long", func(b *ChallengeOpenBody) { b.TTL = MaxChallengeTTL + 1 }, "ttl"},
		{"limit without window", func(b *ChallengeOpenBody) { b.Limits.Window = 0 }, "window"},
		{"negative limit", func(b *ChallengeOpenBody) { b.Limits.PerDomain = -1 }, "negative"},
		{"long by", func(b *ChallengeOpenBody) { b.By = strings.Repeat("b", 129) }, "by longer"},
		{"replace unsent after an hour", func(b *ChallengeOpenBody) { b.ReplaceUnsentAfter = 3600 }, ""},
		{"negative replace delay", func(b *ChallengeOpenBody) { b.ReplaceUnsentAfter = -1 }, "replace_unsent_after"},
		{"replace delay too long", func(b *ChallengeOpenBody) { b.ReplaceUnsentAfter = MaxChallengeTTL + 1 }, "replace_unsent_after"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := validOpen()
			c.change(&b)
			checkValidate(t, b.Validate(), c.want)
		})
	}
}

func TestChallengeBodies_Validate(t *testing.T) {
	cases := []struct {
		name string
		body Validator
		want string
	}{
		{"sent", &ChallengeSentBody{ID: "c1"}, ""},
		{"sent with error", &ChallengeSentBody{ID: "c1", Error: "451 try later"}, ""},
		{"sent without id", &ChallengeSentBody{}, "challenge id"},
		{"sent long error", &ChallengeSentBody{ID: "c1", Error: strings.Repeat("e", 1025)}, "error longer"},
		{"confirm link", &ChallengeConfirmBody{TokenHash: hash64, Method: "link", By: "node-1"}, ""},
		{"confirm without method", &ChallengeConfirmBody{TokenHash: hash64}, "method"},
		{"confirm odd method", &ChallengeConfirmBody{TokenHash: hash64, Method: "Link Click"}, "method"},
		{"confirm bad hash", &ChallengeConfirmBody{TokenHash: "abc", Method: "link"}, "token_hash"},
		{"forgery", &ChallengeReportBody{TokenHash: hash64, Report: "forgery", SuppressFor: 86400}, ""},
		{"forgery without suppression", &ChallengeReportBody{TokenHash: hash64, Report: "forgery"}, ""},
		{"forgery negative", &ChallengeReportBody{TokenHash: hash64, Report: "forgery", SuppressFor: -1}, "suppress_for"},
		{"forgery too long", &ChallengeReportBody{TokenHash: hash64, Report: "forgery", SuppressFor: MaxSuppressFor + 1}, "suppress_for"},
		{"list", &ChallengeReportBody{TokenHash: hash64, Report: "list"}, ""},
		{"list with suppression", &ChallengeReportBody{TokenHash: hash64, Report: "list", SuppressFor: 5}, "only for a forgery"},
		{"unknown report", &ChallengeReportBody{TokenHash: hash64, Report: "spam"}, "not forgery or list"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkValidate(t, c.body.Validate(), c.want) })
	}
}

func checkValidate(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("Validate() = %v, want nil", err)
	case want != "" && err == nil:
		t.Errorf("Validate() = nil, want an error containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("Validate() = %v, want an error containing %q", err, want)
	}
}

func TestDecode_AcceptsEveryVersionUpToCurrent(t *testing.T) {
	for v := 1; v <= Version; v++ {
		in := `{"v":` + string(rune('0'+v)) + `,"type":"challenge.sent","time":1,"body":{"id":"c1"}}`
		if _, err := Decode([]byte(in)); err != nil {
			t.Errorf("version %d: %v", v, err)
		}
	}
	if Version != 8 {
		t.Errorf("Version = %d; the senders kept quoted are version 8 (binary entries 7)", Version)
	}
	if _, err := Decode([]byte(`{"v":9,"type":"challenge.sent","time":1,"body":{}}`)); err == nil {
		t.Error("version 9 decoded")
	}
}
