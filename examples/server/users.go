package main

import (
	"context"
	"strconv"
	"sync/atomic"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/session"
)

// loginHook returns the login hook of the server: package account binds the
// WeChat identity (appid + openid, unionid) and the phone number to the
// application's own users, by its rules: an openid it knows is that user;
// else a phone number from the phone button binds the openid to the user of
// that phone, or to a new one; else the session stays without a subject and
// the answer says {"registered": false}, so that the mini-program shows the
// phone button and posts its code to /api/phone.
//
// The links live in memory here (account.NewMemoryStore). A real server
// keeps them in its database with package account/sqlstore, and
// creates its users in the same transaction (account.WithNewUser). The user
// ids here are "u1", "u2", ...
func loginHook() session.OnLoginFunc {
	var last atomic.Int64
	// WithUnboundPhoneJoin: Douyin's phone code and Alipay's phone response
	// may join an existing user here, as in an application that has
	// checked the number itself (an SMS code); by default they join no one
	// (409 phone_taken), since whoever holds one holds the number.
	linker := account.NewLinker(account.NewMemoryStore(), account.WithNewUser(
		func(context.Context, account.Identity) (string, error) {
			return "u" + strconv.FormatInt(last.Add(1), 10), nil
		}), account.WithUnboundPhoneJoin())
	resolve := account.OnLogin(linker)
	return func(ctx context.Context, info *session.LoginInfo) (map[string]any, error) {
		fields, err := resolve(ctx, info)
		if err != nil || info.Subject == "" {
			return fields, err
		}
		if fields == nil {
			fields = map[string]any{}
		}
		fields["userId"] = info.Subject
		return fields, nil
	}
}
