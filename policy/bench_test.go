package policy

import "testing"

// BenchmarkServer_Request measures one request/reply over a persistent TCP
// connection, as Postfix sends them: from the cache, and with the cache off
// (two DNS round trips to an in-process server per request).
func BenchmarkServer_Request(b *testing.B) {
	for _, bc := range []struct {
		name  string
		cache int
	}{{"cached", 0}, {"uncached", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b, func(c *Config) { c.CacheSize = bc.cache })
			h.dns.list(daveName, "127.0.2.2")
			cl := dial(b, "tcp", h.addr)
			req := rcpt("dave@umkc.edu", "192.0.2.4")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if a, err := cl.send(req); err != nil || a != "DUNNO" {
					b.Fatalf("reply %q, %v", a, err)
				}
			}
		})
	}
}
