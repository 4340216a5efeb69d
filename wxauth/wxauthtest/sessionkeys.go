package wxauthtest

import (
	"errors"
	"time"
)

// WithSessionKeyTTL makes session_keys expire d after the [Server.Login]
// that issued them (default: they do not expire by time). An expired key
// fails checksession with errcode 87009 and resetusersessionkey with 87007;
// jscode2session after a new Login hands out a fresh key. A key that
// resetusersessionkey issues keeps the expiry of the key it replaces, as
// WeChat's does ("重置后的 session_key 会继承原有的 session_key 的过期时间",
// https://developers.weixin.qq.com/miniprogram/dev/server/API/user-login/api_resetusersessionkey.html).
func WithSessionKeyTTL(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("wxauthtest: session key TTL must be positive")
		}
		c.keyTTL = d
		return nil
	}
}

// keyState is what the server keeps of a user's session_key besides the key.
type keyState struct {
	expires time.Time // zero: does not expire
	stale   string    // the key the current one replaced, refused with 87007 on reset
}

// expired reports whether the current key has expired at now.
func (k keyState) expired(now time.Time) bool {
	return !k.expires.IsZero() && !now.Before(k.expires)
}

// rotateKey gives u a new session_key. A Login (renew) starts its lifetime
// anew; a reset keeps the old key's expiry. s.mu must be held.
func (s *Server) rotateKey(u *user, now time.Time, renew bool) {
	u.keys.stale = u.sessionKey
	u.sessionKey = newSessionKey()
	if renew {
		u.keys.expires = time.Time{}
		if s.cfg.keyTTL > 0 {
			u.keys.expires = now.Add(s.cfg.keyTTL)
		}
	}
}

// ExpireSessionKey expires the user's current session_key now, as WeChat
// does after a while: checksession with it answers 87009 and
// resetusersessionkey 87007, until the next [Server.Login]. It fails with
// [ErrUnknownUser] or [ErrNotLoggedIn].
func (s *Server) ExpireSessionKey(openID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.loggedIn(openID)
	if err != nil {
		return err
	}
	u.keys.expires = s.now()
	return nil
}
