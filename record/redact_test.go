package record

import "testing"

func TestRedacted_KeepsTheDomainOnly(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no address here", "no address here"},
		{"dave@umkc.edu", "***@umkc.edu"},
		{"rate limit per sender dave.smith+x@umkc.edu reached", "rate limit per sender ***@umkc.edu reached"},
		{"pair o'brien@irish.example via entity 3", "pair ***@irish.example via entity 3"},
		{`"john doe"@example.com said`, `***@example.com said`},
		{"josé@bücher.example", "***@bücher.example"},
		{"user@[192.0.2.1]", "***@[192.0.2.1]"},
		{"<a@x.example>: 550 unknown; cc b@y.example", "<***@x.example>: 550 unknown; cc ***@y.example"},
		{"confirm-abcdef@wl.test", "***@wl.test"},
		{"a@b@c.example", "***@***@c.example"},
		{"trailing @ and @ alone", "trailing @ and @ alone"},
		{"@example.com", "@example.com"},
		{"x@", "x@"},
	}
	for _, tt := range tests {
		if got := Redacted(tt.in); got != tt.want {
			t.Errorf("Redacted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
