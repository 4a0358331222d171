package record

import (
	"strings"
	"testing"
)

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
		if n, err := normalizeSender(s, quotedLocal); err != nil || n != s {
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

// FuzzNormalizeIdempotent: what NormalizeSender returns is normalised —
// normalising it again returns it unchanged, and the form Postfix passes
// it in (unquoted) normalises to it too — and the V6 normalisation differs
// from it only on a text with a double quote (the rule that gates it,
// command.QuotedSenderVersion); a sender the V6 normalisation kept as it
// is (what builds before version 8 stored) NormalizeSender keeps too, so
// the query names of pairs stored before the upgrade do not change.
func FuzzNormalizeIdempotent(f *testing.F) {
	for _, s := range []string{"user@example.org", `" a"@b.c`, `"\"a\""@b.c`, `"\"\""@b.c`, "\"\u00a0a\"@b.c", `"a\\"@b.c`,
		`"john doe"@x.org`, `"a@b"@c.d`, " a@b.c", "A@B.C.", "a@[IPv6:2001:DB8::1]", "jörg@BÜCHER.example", `"@"@b.c`,
		`a"b@c.d`, `"a@c.d`, `a"@c.d`, `a\"b"@c.d`, "\"\"@c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if old, err := NormalizeSenderV6(s); err == nil && old == s {
			// stored so by a build before version 8, and queried now
			if n, err := NormalizeSender(s); err != nil || n != s {
				t.Fatalf("NormalizeSenderV6 keeps %q, NormalizeSender makes it %q, %v: a pair stored before the upgrade is not found", s, n, err)
			}
		}
		n, err := NormalizeSender(s)
		if err != nil {
			return
		}
		if again, err := NormalizeSender(n); err != nil || again != n {
			t.Fatalf("NormalizeSender(%q) = %q, again %q, %v", s, n, again, err)
		}
		checkAgrees(t, n)
		if at := strings.LastIndexByte(n, '@'); at > 0 {
			if u, err := NormalizeUnquotedSender(unquoted(n[:at]) + n[at:]); err != nil || u != n {
				t.Fatalf("NormalizeUnquotedSender of %q unquoted = %q, %v; want %q", n, u, err, n)
			}
		}
		if old, err := NormalizeSenderV6(s); (err != nil || old != n) && !strings.Contains(s, `"`) {
			t.Fatalf("NormalizeSenderV6(%q) = %q, %v; NormalizeSender %q, without a quote to tell them apart", s, old, err, n)
		}
	})
}

// unquoted is a normalised local part as Postfix passes it (its quotes
// resolved).
func unquoted(local string) string {
	if isQuoted(local) {
		return unquote(local[1 : len(local)-1])
	}
	return local
}

// TestNormalizeUnquotedSender: the unquoted form Postfix's policy request
// carries normalises to what the API stores for the address as written in
// MAIL FROM, nothing trimmed or unquoted.
func TestNormalizeUnquotedSender(t *testing.T) {
	for unq, written := range map[string]string{
		" a@b.c":           `" a"@b.c`,
		`"a"@b.c`:          `"\"a\""@b.c`,
		"John Doe@B.C":     `"john doe"@b.c`,
		"dave@umkc.edu":    "dave@umkc.edu",
		"a@b@c.d":          `"a@b"@c.d`,
		"\u00a0x@b.c":      "\"\u00a0x\"@b.c",
		`a"b\c@x.example`:  `"a\"b\\c"@x.example`,
		"jörg@bücher.test": "jörg@bücher.test",
	} {
		want, err := NormalizeSender(written)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := NormalizeUnquotedSender(unq); err != nil || got != want {
			t.Errorf("NormalizeUnquotedSender(%q) = %q, %v; want %q (NormalizeSender(%q))", unq, got, err, want, written)
		}
	}
}
