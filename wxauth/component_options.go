package wxauth

import (
	"context"
	"errors"
)

// componentOptions are the settings only [NewComponent] takes. NewComponent
// sets config.component before it applies the caller's options, so that
// each of these options can refuse to configure [New].
type componentOptions struct {
	authorized    func(ctx context.Context, authorizerAppID string) (bool, error)
	refreshTokens RefreshTokenStore
	events        func(ctx context.Context, ev *ComponentEvent) error
	prevKey       []byte // AESKey of the previous EncodingAESKey, or nil
}

// errNotComponent is the error of a component option given to [New].
func errNotComponent(name string) error {
	return errors.New("wxauth: " + name + " is an option of NewComponent, not of New")
}

// WithAuthorizerCheck makes [Component.App] ask check whether the
// mini-program authorizerAppID has authorized the component, before any
// request to WeChat: the place to look the appid up in your own database
// of authorizations (filled from the authorized and unauthorized events,
// see [WithComponentEvents]). check answers false for an appid that has
// not, and App then returns an error matching [ErrUnknownApp]; an error of
// check is returned as it is (a database that is down is not the user's
// fault). check is called on every App call, so it should answer from
// memory or a cache. It must be safe for concurrent use.
//
// Without it, App accepts any well-formed appid, and WeChat refuses a
// login for an app that has not authorized the component (errcode 61003,
// which matches [ErrUnknownApp] too) after a request.
//
// It is an option of [NewComponent]; [New] refuses it.
func WithAuthorizerCheck(check func(ctx context.Context, authorizerAppID string) (bool, error)) Option {
	return func(c *config) error {
		if c.component == nil {
			return errNotComponent("WithAuthorizerCheck")
		}
		if check == nil {
			return errors.New("wxauth: authorizer check must not be nil")
		}
		c.component.authorized = check
		return nil
	}
}

// WithRefreshTokens gives a [Component] the authorizer_refresh_token of
// each mini-program that authorized it, which it needs to mint the
// mini-program's authorizer_access_token (for [AuthorizerApp.GetPhoneNumber]
// and [AuthorizerApp.AccessToken]). See [RefreshTokenStore]. Without it,
// those calls fail with [ErrNoRefreshToken]; logins do not need it.
//
// It is an option of [NewComponent]; [New] refuses it.
func WithRefreshTokens(store RefreshTokenStore) Option {
	return func(c *config) error {
		if c.component == nil {
			return errNotComponent("WithRefreshTokens")
		}
		if store == nil {
			return errors.New("wxauth: refresh token store must not be nil")
		}
		c.component.refreshTokens = store
		return nil
	}
}

// WithComponentEvents hands the pushes that [Component.TicketHandler]
// receives other than the ticket itself (authorized, updateauthorized,
// unauthorized, and any InfoType WeChat adds) to handle, after their
// signature, decryption and appid have been checked. When handle returns
// nil the push is answered "success"; when it returns an error the push is
// answered 500, and WeChat pushes it again later, so handle must be
// idempotent (WeChat may push an event twice anyway, and a replayed push
// is handed over again). Without this option such pushes are answered
// "success" and dropped.
//
// An authorized event carries an AuthorizationCode: exchange it with
// [Component.QueryAuth] for the mini-program's authorizer_refresh_token.
// handle runs on the push's request, whose context WeChat gives up on
// after about five seconds: do slow work elsewhere. It must be safe for
// concurrent use.
//
// It is an option of [NewComponent]; [New] refuses it.
func WithComponentEvents(handle func(ctx context.Context, ev *ComponentEvent) error) Option {
	return func(c *config) error {
		if c.component == nil {
			return errNotComponent("WithComponentEvents")
		}
		if handle == nil {
			return errors.New("wxauth: component event handler must not be nil")
		}
		c.component.events = handle
		return nil
	}
}

// WithPreviousEncodingAESKey lets [Component.TicketHandler] also decrypt
// pushes made with the EncodingAESKey the component had before the current
// one, as WeChat advises while a new key takes effect ("建议开放平台账号保存
// 当前的和上一次的 EncodingAESKey，若当前 EncodingAESKey 生成的 AESKey 解密失败，
// 则尝试用上一次的 AESKey 的解密",
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Technical_Plan.html).
// The signature is checked with the Token either way. The key must be 43
// characters of base64 that decode to 32 bytes; the error never quotes it.
//
// It is an option of [NewComponent]; [New] refuses it.
func WithPreviousEncodingAESKey(encodingAESKey string) Option {
	return func(c *config) error {
		if c.component == nil {
			return errNotComponent("WithPreviousEncodingAESKey")
		}
		key, err := decodeAESKey(encodingAESKey)
		if err != nil {
			return err
		}
		c.component.prevKey = key
		return nil
	}
}
