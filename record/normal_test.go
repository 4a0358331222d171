package record

import "testing"

// The fast checks agree with normalisation: true only for a text
// NormalizeSender or NormalizeDomain returns unchanged, and true for the
// plain shapes.
func TestIsNormal_AgreesWithNormalize(t *testing.T) {
	for _, c := range []struct {
		s           string
		sender, dom bool
	}{
		{"user@example.org", true, false},
		{"first.last+tag@mail.example.co.uk", true, false},
		{"o'brien@example.org", true, false},
		{"example.org", true, true},
		{"under_score.example", true, true},
		{"User@example.org", false, false},
		{"user@Example.org", false, false},
		{" user@example.org", false, false},
		{"user@example.org.", false, false},
		{"example.org.", false, false},
		{"user@@example.org", true, false}, // the last @ splits: "user@" is a local part
		{"@example.org", false, false},
		{"\"quoted\"@example.org", false, false},
		{"user@[192.0.2.1]", false, false},
		{"user@exa mple.org", false, false},
		{"a..b", false, false},
		{"tab\t@example.org", false, false},
		{"bücher.example", false, false},
		{"", false, false},
	} {
		if got := IsNormalSender(c.s); got != c.sender {
			t.Errorf("IsNormalSender(%q) = %v, want %v", c.s, got, c.sender)
		}
		if got := IsNormalDomain(c.s); got != c.dom {
			t.Errorf("IsNormalDomain(%q) = %v, want %v", c.s, got, c.dom)
		}
		checkAgrees(t, c.s)
	}
}

// checkAgrees checks a true answer against the full normalisation (what
// NormalizeSender and NormalizeDomain do past their fast path).
func checkAgrees(t *testing.T, s string) {
	t.Helper()
	if IsNormalSender(s) {
		if n, err := normalizeSender(s); err != nil || n != s {
			t.Errorf("IsNormalSender(%q) but the normalisation gives %q, %v", s, n, err)
		}
	}
	if IsNormalDomain(s) {
		if n, err := normalizeDomain(s); err != nil || n != s {
			t.Errorf("IsNormalDomain(%q) but the normalisation gives %q, %v", s, n, err)
		}
	}
}

// FuzzIsNormal: whatever the text, a true answer means normalisation
// leaves it as it is.
func FuzzIsNormal(f *testing.F) {
	for _, s := range []string{"user@example.org", "example.org", "a@b", "x.@y", "\"a b\"@c.d", "A@b.c", "a@b..c",
		"a@B.c", "a@b.c.", "Bücher.example", "a@bücher.example", "xn--bcher-kva.example", "a@xn--BCHER-kva.example", "ä@b.c", "a@[192.0.2.1]"} {
		f.Add(s)
	}
	f.Fuzz(checkAgrees)
}
