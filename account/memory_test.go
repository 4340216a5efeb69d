package account_test

import (
	"testing"

	"github.com/wxmp/miniauth/account"
	"github.com/wxmp/miniauth/account/accounttest"
)

func TestMemoryStore(t *testing.T) {
	accounttest.Run(t, func(*testing.T) account.Store { return account.NewMemoryStore() })
}
