package record

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeSender(t *testing.T) {
	cases := []struct {
		in, want string
		err      error
	}{
		{"Dave@UMKC.edu", "dave@umkc.edu", nil},
		{"first.last@umkc.edu", "first.last@umkc.edu", nil},
		{"  user+tag@example.org. ", "user+tag@example.org", nil},
		{"umkc.edu", "umkc.edu", nil},
		{"@UMKC.edu", "umkc.edu", nil},
		// Quoted local parts become Postfix's internal, unquoted form.
		{`"john doe"@example.org`, `john doe@example.org`, nil},
		{"john doe@example.org", "john doe@example.org", nil},
		{`"a\"b\\c"@example.org`, `a"b\c@example.org`, nil},
		{`"a@b"@example.org`, `a@b@example.org`, nil},
		{"o'brien@irish.example", "o'brien@irish.example", nil},
		// A local part that would read as padding or as another quoted
		// one keeps (least) quotes, so the form is a fixed point.
		{`" a"@example.org`, `" a"@example.org`, nil},
		{`"\ a"@example.org`, `" a"@example.org`, nil},
		{"\"\u00a0a\"@example.org", "\"\u00a0a\"@example.org", nil},
		{`"a "@example.org`, `a @example.org`, nil},
		{`"\"a\""@example.org`, `"\"a\""@example.org`, nil},
		{`"\"\""@example.org`, `"\"\""@example.org`, nil},
		{`"\"a"@example.org`, `"a@example.org`, nil},
		{` a@example.org`, `a@example.org`, nil},
		// Dotted carrier-style local parts, accepted by real MTAs.
		{".dave@umkc.edu", ".dave@umkc.edu", nil},
		{"dave.@umkc.edu", "dave.@umkc.edu", nil},
		{"da..ve@umkc.edu", "da..ve@umkc.edu", nil},
		{strings.Repeat("a", 65) + "@example.org", strings.Repeat("a", 65) + "@example.org", nil},
		{strings.Repeat("a", 256) + "@example.org", strings.Repeat("a", 256) + "@example.org", nil},
		{strings.Repeat("a", 257) + "@example.org", "", ErrBadSender},
		{`""@example.org`, "", ErrBadSender},
		{"dave@", "", ErrBadSender},
		{"dave@exa mple.org", "", ErrBadSender},
		{"dave@example..org", "", ErrBadSender},
		{"dave@" + strings.Repeat("a", 64) + ".org", "", ErrBadSender},
		{"d\x00ve@example.org", "", ErrBadSender},
		{"d\tve@example.org", "", ErrBadSender},
		{"JÖRG@example.org", "jörg@example.org", nil},
		{"j\xffrg@example.org", "", ErrBadSender},
		// Internationalised domains become A-labels.
		{"jörg@exämple.org", "jörg@xn--exmple-cua.org", nil},
		{"jose@BÜCHER.example", "jose@xn--bcher-kva.example", nil},
		{"jose@xn--bcher-kva.example", "jose@xn--bcher-kva.example", nil},
		{"jose@bü cher.example", "", ErrBadSender},
		// Address literals.
		{"user@[192.0.2.1]", "user@[192.0.2.1]", nil},
		{"user@[IPv6:2001:DB8:0::1]", "user@[ipv6:2001:db8::1]", nil},
		{"user@[2001:db8::1]", "", ErrBadSender},
		{"user@[IPv6:192.0.2.1]", "", ErrBadSender},
		{"user@[192.0.2.1", "", ErrBadSender},
		{"user@[x400:foo]", "", ErrBadSender},
		{"@[192.0.2.1]", "", ErrBadSender},
		{"", "", ErrBadSender},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := NormalizeSender(c.in)
			if !errors.Is(err, c.err) {
				t.Fatalf("NormalizeSender(%q) error = %v, want %v", c.in, err, c.err)
			}
			if got != c.want {
				t.Errorf("NormalizeSender(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestNormalizeSender_Idempotent: the canonical form normalises to itself,
// so the policy service, the API and the index agree on keys and hashes.
func TestNormalizeSender_Idempotent(t *testing.T) {
	for _, in := range []string{`"john doe"@example.org`, "a..b@x.example", "jose@bücher.example", "user@[IPv6:2001:db8::1]", "Ünïcødé@example.org",
		`" a"@b.c`, `"\"a\""@b.c`, `"\"\""@b.c`, "\"\u2003a\"@b.c", `"\\"@b.c`} {
		once, err := NormalizeSender(in)
		if err != nil {
			t.Fatal(err)
		}
		if twice, err := NormalizeSender(once); err != nil || twice != once {
			t.Errorf("NormalizeSender(%q) = %q, again %q, %v", in, once, twice, err)
		}
	}
}

// TestNormalizeDomain_ErrorNamesTheCharacter: a UTF-8 character is named as
// itself, not as its first byte ('Ã').
func TestNormalizeDomain_ErrorNamesTheCharacter(t *testing.T) {
	for in, want := range map[string]string{
		"exa mple.org": "' ' (U+0020)",
		"bü cher.org":  "U+0020",
		"ex!ample.org": "'!' (U+0021)",
		"a\u00a0b.org": "U+00A0",
	} {
		_, err := NormalizeDomain(in)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "Ã") {
			t.Errorf("NormalizeDomain(%q) = %v, want it to name %s", in, err, want)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	cases := []struct {
		in, want string
		bad      bool
	}{
		{"192.0.2.4", "192.0.2.4/32", false},
		{"192.0.2.77/24", "192.0.2.0/24", false},
		{"2001:DB8::1", "2001:db8::1/128", false},
		{"2001:db8::1/32", "2001:db8::/32", false},
		{"::ffff:192.0.2.4", "192.0.2.4/32", false},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24", false},
		{"fe80::1%eth0", "", true},
		{"192.0.2.256", "", true},
		{"192.0.2.0/33", "", true},
		{"relay.example.org", "", true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			p, err := ParsePrefix(c.in)
			if c.bad {
				if !errors.Is(err, ErrBadPrefix) {
					t.Fatalf("ParsePrefix(%q) = %v, %v; want ErrBadPrefix", c.in, p, err)
				}
				return
			}
			if err != nil || p.String() != c.want {
				t.Errorf("ParsePrefix(%q) = %v, %v; want %s", c.in, p, err, c.want)
			}
		})
	}
}

func TestHashLabel_RoundTripAndKnownValue(t *testing.T) {
	// echo -n dave@umkc.edu | sha256sum | xxd -r -p | base32 | tr -d = | tr A-Z a-z
	const want = "5zzzcd7taglrfxx6jenimrgt4bx5cqixqstlmjpmoby23gt2phaa"
	got := HashLabel("Dave@UMKC.edu")
	if len(got) != HashLabelLen {
		t.Fatalf("label length %d, want %d", len(got), HashLabelLen)
	}
	if got != want {
		t.Errorf("HashLabel = %s, want %s", got, want)
	}
	var sum [32]byte
	if !DecodeHashLabel([]byte(strings.ToUpper(got)), &sum) || sum != SenderHash("dave@umkc.edu") {
		t.Error("DecodeHashLabel does not invert HashLabel (upper case)")
	}
	for _, bad := range []string{got[:51], got + "a", strings.Repeat("1", 52)} {
		if DecodeHashLabel([]byte(bad), &sum) {
			t.Errorf("DecodeHashLabel(%q) accepted", bad)
		}
	}
}

func TestMeta_MarkSeenKeepsTheLatest(t *testing.T) {
	var m Meta
	m.MarkSeen(100)
	m.MarkSeen(50)
	if m.Seen() != 100 {
		t.Errorf("Seen = %d, want 100", m.Seen())
	}
	var c Meta
	m.CopyMetaTo(&c)
	if c.Seen() != 100 {
		t.Errorf("copied Seen = %d, want 100", c.Seen())
	}
}
