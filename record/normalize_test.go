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
		{`"john doe"@example.org`, `"john doe"@example.org`, nil},
		{"john doe@example.org", "", ErrBadSender},
		{".dave@umkc.edu", "", ErrBadSender},
		{"dave.@umkc.edu", "", ErrBadSender},
		{"da..ve@umkc.edu", "", ErrBadSender},
		{strings.Repeat("a", 65) + "@example.org", "", ErrBadSender},
		{"dave@", "", ErrBadSender},
		{"dave@exa mple.org", "", ErrBadSender},
		{"dave@example..org", "", ErrBadSender},
		{"dave@" + strings.Repeat("a", 64) + ".org", "", ErrBadSender},
		{"d\x00ve@example.org", "", ErrBadSender},
		{"JÖRG@example.org", "jörg@example.org", nil},
		{"j\xffrg@example.org", "", ErrBadSender},
		{"jörg@exämple.org", "", ErrBadSender},
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
