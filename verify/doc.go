// Package verify is the verification service of a wlns node: it decides
// whether a sender may be challenged, opens the replicated challenge, mails
// the one-time token through the configured SMTP relay, serves the
// confirmation pages (/verify/...) and confirms tokens that come back by
// link or by reply.
//
// It owns the never-challenge rules, the token format, the challenge mail
// and its sending, the pages and the wlns_challenges_total and
// wlns_challenge_mail_seconds metrics. It changes the whitelist only by
// proposing command envelopes through the Store interface it declares; the
// state machine (raftstore) enforces one open challenge per pair, the rate
// limits and suppression deterministically. It must not import the admin
// API, the DNS server or Raft, and never sends mail because of a DNS query:
// Request is called only by authenticated callers (the admin API).
//
// The inbound SMTP service that takes token replies (inbound*.go) is built
// on ConfirmReply, Open and TokenFromAddress.
package verify
