package op

import (
	"net/http"
	"strings"
	"time"
)

// sessionCookie is the SSO session cookie. It is scoped to Path /oauth2,
// where every endpoint that reads it lives.
const sessionCookie = "mockokta_sid"

// session is an SSO session: who signed in and when.
type session struct {
	userID   string
	authTime time.Time
	expires  time.Time
}

// session returns the request's live SSO session, or nil.
func (p *Provider) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[c.Value]
	if !ok {
		return nil
	}
	if p.now().After(s.expires) {
		delete(p.sessions, c.Value)
		return nil
	}
	cp := *s
	return &cp
}

// startSession records a new SSO session and sets its cookie.
func (p *Provider) startSession(w http.ResponseWriter, userID string) *session {
	id := randomID(43)
	now := p.now()
	s := &session{userID: userID, authTime: now, expires: now.Add(sessionLifetime)}
	p.mu.Lock()
	if sw := &p.sweeps[sweepSessions]; sw.due(now, len(p.sessions)) {
		for k, old := range p.sessions {
			if now.After(old.expires) {
				delete(p.sessions, k)
			}
		}
		sw.done(now, len(p.sessions))
	}
	p.sessions[id] = s
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     "/oauth2",
		HttpOnly: true,
		Secure:   strings.HasPrefix(p.base(), "https://"),
		SameSite: http.SameSiteLaxMode,
	})
	cp := *s
	return &cp
}

// endSession forgets the request's SSO session and clears its cookie.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.mu.Lock()
		delete(p.sessions, c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    "",
		Path:     "/oauth2",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   strings.HasPrefix(p.base(), "https://"),
		SameSite: http.SameSiteLaxMode,
	})
}
