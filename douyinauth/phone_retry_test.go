package douyinauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/douyinauth"
	"github.com/wxmp/miniauth/douyinauth/douyinauthtest"
)

// TestPhoneTokenRefusedRetriesOnce: a client_token that Douyin refuses
// (28001008) costs exactly one new token and one more call; a second
// refusal is the caller's error, not a loop, and spends no phone code.
func TestPhoneTokenRefusedRetriesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		refusals int
		wantErr  bool
	}{
		{name: "none", refusals: 0},
		{name: "once: one refresh, one retry", refusals: 1},
		{name: "twice: returned after one retry", refusals: 2, wantErr: true},
		{name: "three times: still one retry", refusals: 3, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, app := setup(t, nil)
			openid := srv.AddUser(douyinauthtest.User{})
			ctx := context.Background()
			// A first call caches a token.
			code, err := srv.PhoneCode(openid)
			require.NoError(t, err)
			_, err = app.GetPhoneNumber(ctx, code)
			require.NoError(t, err)
			require.Equal(t, 1, srv.Calls(douyinauthtest.PathClientToken))
			require.Equal(t, 1, srv.Calls(douyinauthtest.PathPhoneNumber))

			for range tt.refusals {
				require.NoError(t, srv.FailNext(douyinauthtest.PathPhoneNumber, 28001008))
			}
			code, err = srv.PhoneCode(openid)
			require.NoError(t, err)
			p, err := app.GetPhoneNumber(ctx, code)
			calls, fetches := 1, 0
			if tt.refusals > 0 {
				calls, fetches = 2, 1
			}
			assert.Equal(t, 1+calls, srv.Calls(douyinauthtest.PathPhoneNumber), "phone calls")
			assert.Equal(t, 1+fetches, srv.Calls(douyinauthtest.PathClientToken), "token fetches")
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, douyinauthtest.DefaultPhoneNumber, p.PurePhoneNumber)
				return
			}
			assert.Nil(t, p)
			var ae *douyinauth.APIError
			require.True(t, errors.As(err, &ae), "%v", err)
			assert.Equal(t, int64(28001008), ae.Code)
			assert.ErrorIs(t, err, douyinauth.ErrInvalidCredential)

			// The refusals spent nothing: the same code works on the next
			// call (which, with a third refusal left, retries it once more).
			p, err = app.GetPhoneNumber(ctx, code)
			require.NoError(t, err)
			assert.Equal(t, douyinauthtest.DefaultPhoneNumber, p.PurePhoneNumber)
		})
	}
}
