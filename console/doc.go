// Package console is the web console of a wlns node, served by every node
// under /console/ on the HTTP listener: postmasters see and manage the
// relays, groups, pairs and VERP sources inside their prefixes, senders
// look up whether they are listed through a relay, and an admin sees the
// cluster.
//
// The pages are rendered on the server with html/template from templates
// and a stylesheet embedded in the binary: nothing to build, nothing
// fetched from elsewhere, every page readable and every form usable with
// JavaScript off (a browser without it, a screen reader, curl). The one
// script adds conveniences only (a confirmation before a delete). A
// single-page application would need a build step and a second API for
// the browser, and would show nothing without JavaScript.
//
// Sign-in needs no new replicated state: a session is an API token of the
// existing kind, created through the store (name "console-session-…",
// the postmaster's prefixes or the pasted token's role), whose secret
// lives only in the browser's cookie; every node knows it the moment the
// token is applied, sign-out deletes it, and a sweep on the leader deletes
// those past their lifetime. A magic link is the same: a short-lived token
// ("console-link-…") scoped to the relay's prefixes whose secret is only in
// the mail, used once because taking it is a replicated delete that only
// one request can win.
//
// The console reads the index's read side and the store's tokens and
// challenges, and changes data only by proposing command envelopes through
// the Store interface it declares, like the admin API. It must not touch
// Raft, the DNS server or the index's write side, and a postmaster's
// session never shows or changes an entity with a member outside the
// session's prefixes.
package console
