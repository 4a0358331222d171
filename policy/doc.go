// Package policy owns the Postfix policy service (`wlns policy`): it speaks
// the policy delegation protocol of Postfix's SMTPD_POLICY_README over TCP
// and unix sockets, and for each MAIL FROM or RCPT asks a wlns server,
// through ordinary DNS queries, whether the sender is whitelisted for the
// connecting relay. It answers DUNNO (or a configured OK/PREPEND) when the
// sender or its list server is listed, and a 451 deferral when not.
//
// The package is a DNS client of wlns and nothing more: it must not import
// the index, the store, the zone server or the admin API, so that it sees
// exactly what any mail server sees and can run on a host far from the
// whitelist. It imports only record and qname (to build query names) and
// its libraries. Sending challenges to senders is not done here: a deferral
// is handed to a Challenger; APIChallenger asks a wlns node, with a bearer
// token over its HTTP API (POST /v1/challenges), and wlns decides whether
// to mail the sender.
package policy
