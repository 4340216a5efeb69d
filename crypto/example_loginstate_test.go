package crypto_test

import (
	"errors"
	"fmt"

	"github.com/wxmp/miniauth/crypto"
)

// The user login-state signature of a request body, with the example from
// WeChat's documentation (its session_key, body and signature).
func ExampleLoginStateSignature() {
	sessionKey := "o0q0otL8aEzpcZL/FT9WsQ=="
	body := []byte(`{"foo":"bar"}`)

	fmt.Println(crypto.LoginStateSignature(sessionKey, body))
	// Output: 654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b
}

// CheckSessionKey tells a usable session_key (standard base64 of 16 bytes)
// from a corrupted one before it is stored or used.
func ExampleCheckSessionKey() {
	for _, key := range []string{"tiihtNczf5v6AKRyjwEUhQ==", "tiihtNczf5v6AKRyjwEUhQ", ""} {
		err := crypto.CheckSessionKey(key)
		fmt.Println(err == nil, errors.Is(err, crypto.ErrInvalidSessionKey))
	}
	// Output:
	// true false
	// false true
	// false true
}
