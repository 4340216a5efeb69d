package main

import (
	"context"
	"strconv"
	"sync"

	"github.com/wxmp/miniauth/session"
)

// userTable is the application's own users, in memory: each user's id,
// bound to the WeChat openids and the phone number that identify them. A
// real server keeps it in its database.
type userTable struct {
	mu      sync.Mutex
	byOpen  map[string]string // openid -> user id
	byPhone map[string]string // phone number -> user id
}

func newUserTable() *userTable {
	return &userTable{byOpen: map[string]string{}, byPhone: map[string]string{}}
}

// onLogin is the login hook: an openid the table knows is that user; else a
// phone number from the phone button binds the openid to the user of that
// phone, or to a new user; else the session stays without a subject and the
// answer says {"registered": false}, so that the mini-program shows the
// phone button and posts its code to /api/phone.
func (t *userTable) onLogin(_ context.Context, info *session.LoginInfo) (map[string]any, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := t.byOpen[info.Session.OpenID]
	if id == "" && info.Phone != nil {
		if id = t.byPhone[info.Phone.PhoneNumber]; id == "" {
			id = "u" + strconv.Itoa(len(t.byPhone)+1)
			t.byPhone[info.Phone.PhoneNumber] = id
		}
		t.byOpen[info.Session.OpenID] = id
	}
	if id == "" {
		return map[string]any{"registered": false}, nil
	}
	info.Subject = id
	return map[string]any{"registered": true, "userId": id}, nil
}
