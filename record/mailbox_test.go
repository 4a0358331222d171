package record

import "testing"

func TestMailbox_QuotesWhatIsNotADotString(t *testing.T) {
	for in, want := range map[string]string{
		"dave@umkc.edu":         "dave@umkc.edu",
		"first.last@umkc.edu":   "first.last@umkc.edu",
		"o'brien@irish.example": "o'brien@irish.example",
		"jörg@example.org":      "jörg@example.org",
		"john doe@example.org":  `"john doe"@example.org`,
		"a..b@x.example":        `"a..b"@x.example`,
		".x@x.example":          `".x"@x.example`,
		`a"b\c@x.example`:       `"a\"b\\c"@x.example`,
		"a@b@x.example":         `"a@b"@x.example`,
		"user@[192.0.2.1]":      "user@[192.0.2.1]",
		`" a"@x.example`:        `" a"@x.example`,
		`"\"q\""@x.example`:     `"\"q\""@x.example`,
		"umkc.edu":              "umkc.edu",
	} {
		if got := Mailbox(in); got != want {
			t.Errorf("Mailbox(%q) = %s, want %s", in, got, want)
		}
		// What Mailbox writes normalises back to the same address.
		if n, err := NormalizeSender(Mailbox(in)); in != "umkc.edu" && (err != nil || n != in) {
			t.Errorf("NormalizeSender(Mailbox(%q)) = %q, %v", in, n, err)
		}
	}
}
