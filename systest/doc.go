// Package systest holds the system tests: they build the real wlns binary,
// start it on loopback ports in temporary directories, write data through
// the real CLI and HTTP API, and ask it questions with real DNS clients (dig,
// kdig, the miekg/dns client), a real Unbound resolver doing strict QNAME
// minimisation, two SPF implementations (libspf2's spfquery and Perl's
// Mail::SPF), a real Postfix driven by swaks in front of `wlns policy`
// (including the whole verification loop: 451, one challenge mail to an
// in-test SMTP relay, confirmation by link and by reply to the inbound SMTP
// service, forgery reports), Exim (host-checking mode), Rspamd and
// SpamAssassin against the zones, multi-process clusters over mutual TLS
// (three and seven nodes on loopback; seven in network namespaces with
// injected delay, loss and partitions while writes and DNS probes run), and
// a node on a full tmpfs.
//
// The package owns only tests and their harness. It must not import wlns
// packages to reach inside the server: everything it checks goes through the
// binary's public interfaces, as an operator or an MTA would see them.
//
// External tools are required under CI=true (a missing tool fails the test);
// elsewhere a test that needs a missing tool skips, naming the Debian package
// to install (scripts/test-deps.sh installs them all).
package systest
