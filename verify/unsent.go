package verify

import "time"

// maxUnsent bounds the tokens of failed mails a node keeps.
const maxUnsent = 10000

// unsentMail is the token of a challenge whose mail failed, kept in memory
// only: a restart or another node cannot send it again. Once the challenge
// is ResendAfter old, a Request on a node without its token replaces it
// with a fresh one instead (see existing).
type unsentMail struct {
	token string
	tried time.Time
}

// keepUnsent remembers token for challenge id after a failed send.
func (s *Service) keepUnsent(id, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if len(s.unsent) >= maxUnsent {
		for k, u := range s.unsent {
			if now.Sub(u.tried) > s.cfg.TTL || len(s.unsent) >= maxUnsent {
				delete(s.unsent, k)
			}
		}
	}
	s.unsent[id] = &unsentMail{token: token, tried: now}
}

// takeUnsent returns the token of challenge id if its last send failed at
// least ResendAfter ago, and forgets it (the caller tries again and keeps
// it anew on failure), so that concurrent Requests send it once.
func (s *Service) takeUnsent(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.unsent[id]
	if !ok || s.cfg.Now().Sub(u.tried) < ResendAfter {
		return "", false
	}
	delete(s.unsent, id)
	return u.token, true
}

// holdsUnsent reports whether this node keeps the token of challenge id
// after a failed send.
func (s *Service) holdsUnsent(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.unsent[id]
	return ok
}
