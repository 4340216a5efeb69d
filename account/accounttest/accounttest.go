package accounttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth"
	"github.com/wxmp/miniauth/account"
)

// Races is how many goroutines each race case runs.
const Races = 100

// Run checks the stores newStore returns, in parallel subtests of t. See the
// package documentation.
func Run(t *testing.T, newStore func(t *testing.T) account.Store) {
	t.Helper()
	if newStore == nil {
		t.Fatal("accounttest: newStore is nil")
	}
	for _, st := range []struct {
		name string
		test func(*testing.T, *fixture)
	}{
		{"NotFoundCreatesNothing", testNotFound},
		{"CreateWithPhone", testCreate},
		{"KnownOpenID", testKnownOpenID},
		{"UnionIDAcrossApps", testUnionID},
		{"UnionIDPerPlatform", testUnionIDPerPlatform},
		{"PhoneAcrossPlatforms", testPhoneAcrossPlatforms},
		{"PhoneTakenPerApp", testPhoneTakenPerApp},
		{"UnbindPerPlatform", testUnbindPerPlatform},
		{"PhoneBindsOtherApp", testPhoneBindsOtherApp},
		{"PhoneTaken", testPhoneTaken},
		{"PhoneBoundToKnownUser", testPhoneToKnownUser},
		{"PhoneForms", testPhoneForms},
		{"CaseSensitiveIDs", testCaseSensitive},
		{"Unbind", testUnbind},
		{"Delete", testDelete},
		{"NewUserFails", testNewUserFails},
		{"Invalid", testInvalid},
		{"Canceled", testCanceled},
		{"TxTaken", testTxTaken},
		{"TxRollback", testTxRollback},
		{"RacePhone", testRacePhone},
		{"RaceOpenID", testRaceOpenID},
		{"RaceUnionID", testRaceUnionID},
		{"RacePlatforms", testRacePlatforms},
	} {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			if s == nil {
				t.Fatal("accounttest: newStore returned a nil store")
			}
			f := &fixture{store: s, run: newRun()}
			f.linker = account.NewLinker(s, account.WithNewUser(f.newUser))
			st.test(t, f)
		})
	}
}

// fixture is one subtest's store and a Linker on it whose users are
// "user-<run>-<n>".
type fixture struct {
	store   account.Store
	linker  *account.Linker
	run     string
	n       atomic.Int64
	fail    atomic.Pointer[error]
	invalid atomic.Bool
	calls   atomic.Int64
}

func newRun() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (f *fixture) newUser(ctx context.Context, id account.Identity) (string, error) {
	f.calls.Add(1)
	if err := f.fail.Load(); err != nil {
		return "", *err
	}
	if f.invalid.Load() {
		return "", nil
	}
	if _, err := account.NormalizePhone(id.Phone); err != nil || !strings.HasPrefix(id.Phone, "+") {
		return "", errors.New("accounttest: the callback got an identity whose phone is not normalised")
	}
	return fmt.Sprintf("user-%s-%d", f.run, f.n.Add(1)), nil
}

// id returns an identity of app "wx<app>" with openid "o-<run>-<name>",
// without a platform: a WeChat one. The phones the suite gives it are tied
// to its openid (PhoneBound), as a WeChat phone code is: the rules of
// joining by an unbound phone are the Linker's, not the store's.
func (f *fixture) id(app int, name string) account.Identity {
	return account.Identity{AppID: fmt.Sprintf("wx%016d", app), OpenID: "o-" + f.run + "-" + name, PhoneBound: true}
}

// on returns f.id(app, name) on platform p.
func (f *fixture) on(p miniauth.Platform, app int, name string) account.Identity {
	id := f.id(app, name)
	id.Platform = p
	return id
}

// wx is the key of a WeChat openid.
func wx(appID, openID string) account.OpenID {
	return account.OpenID{Platform: miniauth.WeChat, AppID: appID, OpenID: openID}
}

// wxu is the key of a WeChat unionid.
func wxu(unionID string) account.UnionID {
	return account.UnionID{Platform: miniauth.WeChat, UnionID: unionID}
}

// wechatOpenID is the key of id's openid, id being a WeChat identity.
func wechatOpenID(id account.Identity) account.OpenID { return wx(id.AppID, id.OpenID) }

// wechatUnionID is the key of id's unionid, id being a WeChat identity.
func wechatUnionID(id account.Identity) account.UnionID { return wxu(id.UnionID) }

// openIDOf is the key of id's openid on its platform.
func openIDOf(id account.Identity) account.OpenID {
	return account.OpenID{Platform: id.Platform.OrWeChat(), AppID: id.AppID, OpenID: id.OpenID}
}

// phone returns a mainland mobile number unique to this run and n.
func (f *fixture) phone(n int) string {
	var d [4]byte
	_, _ = rand.Read(d[:])
	return fmt.Sprintf("+86 13%01d%04d%04d", n%10, (int(d[0])<<8|int(d[1]))%10000, (int(d[2])<<8|int(d[3]))%10000)
}

func (f *fixture) resolve(t *testing.T, id account.Identity) (string, bool) {
	t.Helper()
	uid, created, err := f.linker.Resolve(context.Background(), id)
	require.NoError(t, err)
	require.NotEmpty(t, uid)
	return uid, created
}

func (f *fixture) links(t *testing.T, uid string) *account.Links {
	t.Helper()
	l, err := f.linker.Links(context.Background(), uid)
	require.NoError(t, err)
	return l
}

// noPhone fails t when err's text holds the digits of phone.
func noPhone(t *testing.T, err error, phone string) {
	t.Helper()
	if err == nil {
		return
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	national := digits[len(digits)-8:]
	assert.NotContains(t, err.Error(), national, "an error quotes the phone")
}

func testNotFound(t *testing.T, f *fixture) {
	ctx := context.Background()
	id := f.id(1, "a")
	id.UnionID = "u-" + f.run
	for range 2 {
		_, _, err := f.linker.Resolve(ctx, id)
		require.ErrorIs(t, err, account.ErrNotRegistered)
	}
	assert.Zero(t, f.calls.Load(), "a phone-less unknown login must not create a user")
	// The unionid was not bound either: another app's login with it is unknown.
	other := f.id(2, "b")
	other.UnionID = id.UnionID
	_, _, err := f.linker.Resolve(ctx, other)
	require.ErrorIs(t, err, account.ErrNotRegistered)
}

func testCreate(t *testing.T, f *fixture) {
	id := f.id(1, "a")
	id.UnionID = "u-" + f.run
	id.Phone = f.phone(1)
	uid, created := f.resolve(t, id)
	assert.True(t, created)
	assert.EqualValues(t, 1, f.calls.Load())
	want, _ := account.NormalizePhone(id.Phone)
	l := f.links(t, uid)
	assert.Equal(t, want, l.Phone)
	assert.Equal(t, []account.OpenID{wechatOpenID(id)}, l.OpenIDs, "an identity without a platform is a WeChat one")
	assert.Equal(t, []account.UnionID{wechatUnionID(id)}, l.UnionIDs)

	// Logged in again, with or without the phone: the same user.
	uid2, created := f.resolve(t, id)
	assert.Equal(t, uid, uid2)
	assert.False(t, created)
	id.Phone = ""
	uid3, _ := f.resolve(t, id)
	assert.Equal(t, uid, uid3)
	assert.EqualValues(t, 1, f.calls.Load())

	empty := f.links(t, "nobody-"+f.run)
	assert.Empty(t, empty.Phone)
	assert.Empty(t, empty.OpenIDs)
	assert.Empty(t, empty.UnionIDs)
}

func testKnownOpenID(t *testing.T, f *fixture) {
	id := f.id(1, "a")
	id.Phone = f.phone(1)
	uid, _ := f.resolve(t, id)
	// A new unionid seen on a later login is bound to the user.
	id.Phone = ""
	id.UnionID = "u-late-" + f.run
	uid2, created := f.resolve(t, id)
	assert.Equal(t, uid, uid2)
	assert.False(t, created)
	assert.Equal(t, []account.UnionID{wechatUnionID(id)}, f.links(t, uid).UnionIDs)
}

func testUnionID(t *testing.T, f *fixture) {
	a := f.id(1, "a")
	a.UnionID = "u-" + f.run
	a.Phone = f.phone(1)
	uid, _ := f.resolve(t, a)

	b := f.id(2, "b") // app B, its own openid, the same unionid, no phone
	b.UnionID = a.UnionID
	uidB, created := f.resolve(t, b)
	assert.Equal(t, uid, uidB, "a unionid seen in app A binds app B's openid to A's user")
	assert.False(t, created)
	assert.EqualValues(t, 1, f.calls.Load())
	assert.Equal(t, []account.OpenID{wechatOpenID(a), wechatOpenID(b)},
		f.links(t, uid).OpenIDs)
	b.UnionID = ""
	uidB2, _ := f.resolve(t, b) // app B's openid is now known by itself
	assert.Equal(t, uid, uidB2)

	// A unionid whose user has another openid of this app binds nothing;
	// without a phone that is ErrNotRegistered.
	c := f.id(1, "c")
	c.UnionID = a.UnionID
	_, _, err := f.linker.Resolve(context.Background(), c)
	require.ErrorIs(t, err, account.ErrNotRegistered)
}

func testPhoneBindsOtherApp(t *testing.T, f *fixture) {
	phone := f.phone(1)
	a := f.id(1, "a")
	a.Phone = phone
	uid, _ := f.resolve(t, a)
	b := f.id(2, "b") // no unionid: only the phone tells it is the same person
	b.Phone = phone
	uidB, created := f.resolve(t, b)
	assert.Equal(t, uid, uidB)
	assert.False(t, created)
	assert.Len(t, f.links(t, uid).OpenIDs, 2)
}

func testPhoneTaken(t *testing.T, f *fixture) {
	ctx := context.Background()
	phone := f.phone(1)
	a := f.id(1, "a")
	a.Phone = phone
	uid, _ := f.resolve(t, a)
	b := f.id(1, "b") // the same app, another openid
	b.Phone = phone
	b.UnionID = "u-b-" + f.run
	_, _, err := f.linker.Resolve(ctx, b)
	require.ErrorIs(t, err, account.ErrPhoneTaken)
	noPhone(t, err, phone)
	b.Phone = ""
	_, _, err = f.linker.Resolve(ctx, b)
	require.ErrorIs(t, err, account.ErrNotRegistered, "a refused login binds nothing")
	l := f.links(t, uid)
	assert.Len(t, l.OpenIDs, 1)
	assert.Empty(t, l.UnionIDs)
}

func testPhoneToKnownUser(t *testing.T, f *fixture) {
	ctx := context.Background()
	a := f.id(1, "a")
	a.Phone = f.phone(1)
	uid, _ := f.resolve(t, a)
	b := f.id(1, "b")
	b.Phone = f.phone(2)
	uidB, _ := f.resolve(t, b)

	// A user with a phone keeps it: a new phone is not bound.
	a.Phone = f.phone(3)
	got, _ := f.resolve(t, a)
	assert.Equal(t, uid, got)
	first, _ := account.NormalizePhone(f.links(t, uid).Phone)
	assert.NotEqual(t, mustNormalize(t, a.Phone), first)

	// Without its phone, the user gets the next one offered, unless another
	// user has it.
	require.NoError(t, f.linker.Unbind(ctx, uid, account.Identity{Phone: f.links(t, uid).Phone}))
	assert.Empty(t, f.links(t, uid).Phone)
	a.Phone = f.links(t, uidB).Phone
	got, _ = f.resolve(t, a)
	assert.Equal(t, uid, got)
	assert.Empty(t, f.links(t, uid).Phone, "a phone of another user is not bound")
	a.Phone = f.phone(4)
	got, _ = f.resolve(t, a)
	assert.Equal(t, uid, got)
	assert.Equal(t, mustNormalize(t, a.Phone), f.links(t, uid).Phone)
}

func mustNormalize(t *testing.T, phone string) string {
	t.Helper()
	p, err := account.NormalizePhone(phone)
	require.NoError(t, err)
	return p
}

func testPhoneForms(t *testing.T, f *fixture) {
	p := mustNormalize(t, f.phone(1)) // "+86139..."
	national := p[3:]
	forms := []string{"+86 " + national[:3] + "-" + national[3:7] + "-" + national[7:], national, "0086" + national, p}
	var uid string
	for i, form := range forms {
		id := f.id(i+1, "a") // one app each, so every form can bind
		id.Phone = form
		got, _ := f.resolve(t, id)
		if i == 0 {
			uid = got
		}
		assert.Equal(t, uid, got, "phone form %d", i)
	}
	assert.Equal(t, p, f.links(t, uid).Phone)
	assert.EqualValues(t, 1, f.calls.Load())
}

func testCaseSensitive(t *testing.T, f *fixture) {
	lower := f.id(1, "abc")
	lower.Phone = f.phone(1)
	upper := lower
	upper.OpenID = strings.ToUpper(lower.OpenID)
	upper.Phone = f.phone(2)
	spaced := lower // trailing spaces are refused, so PAD SPACE collations cannot bite
	spaced.OpenID += " "
	u1, _ := f.resolve(t, lower)
	u2, created := f.resolve(t, upper)
	assert.True(t, created)
	assert.NotEqual(t, u1, u2, "openids differing in case are two identities")
	_, _, err := f.linker.Resolve(context.Background(), spaced)
	require.ErrorIs(t, err, account.ErrInvalidIdentity)
}

func testUnbind(t *testing.T, f *fixture) {
	ctx := context.Background()
	a := f.id(1, "a")
	a.UnionID = "u-" + f.run
	a.Phone = f.phone(1)
	uid, _ := f.resolve(t, a)
	b := f.id(1, "b")
	b.Phone = f.phone(2)
	other, _ := f.resolve(t, b)

	// Another user's links are not touched.
	require.NoError(t, f.linker.Unbind(ctx, other, a))
	assert.Len(t, f.links(t, uid).OpenIDs, 1)

	require.NoError(t, f.linker.Unbind(ctx, uid, account.Identity{AppID: a.AppID, OpenID: a.OpenID, UnionID: a.UnionID}))
	l := f.links(t, uid)
	assert.Empty(t, l.OpenIDs)
	assert.Empty(t, l.UnionIDs)
	assert.Equal(t, mustNormalize(t, a.Phone), l.Phone)
	noPhoneID := a
	noPhoneID.Phone, noPhoneID.UnionID = "", ""
	_, _, err := f.linker.Resolve(ctx, noPhoneID)
	require.ErrorIs(t, err, account.ErrNotRegistered)
	// With the phone, the openid finds its user again (no openid of this app).
	got, created := f.resolve(t, a)
	assert.Equal(t, uid, got)
	assert.False(t, created)
	require.NoError(t, f.linker.Unbind(ctx, uid, account.Identity{}), "unbinding nothing")
	assert.Len(t, f.links(t, other).OpenIDs, 1)
}

func testDelete(t *testing.T, f *fixture) {
	ctx := context.Background()
	a := f.id(1, "a")
	a.UnionID = "u-" + f.run
	a.Phone = f.phone(1)
	uid, _ := f.resolve(t, a)
	b := f.id(2, "b")
	b.UnionID = a.UnionID
	f.resolve(t, b)
	c := f.id(1, "c")
	c.Phone = f.phone(2)
	other, _ := f.resolve(t, c)

	require.NoError(t, f.linker.Delete(ctx, uid))
	require.NoError(t, f.linker.Delete(ctx, uid), "deleting again")
	l := f.links(t, uid)
	assert.Empty(t, l.Phone)
	assert.Empty(t, l.OpenIDs)
	assert.Empty(t, l.UnionIDs)
	b.UnionID = ""
	_, _, err := f.linker.Resolve(ctx, b)
	require.ErrorIs(t, err, account.ErrNotRegistered)
	fresh, created := f.resolve(t, a)
	assert.True(t, created, "the phone of a deleted user is free")
	assert.NotEqual(t, uid, fresh)
	assert.Len(t, f.links(t, other).OpenIDs, 1, "another user is not touched")
}

func testNewUserFails(t *testing.T, f *fixture) {
	ctx := context.Background()
	id := f.id(1, "a")
	id.UnionID = "u-" + f.run
	id.Phone = f.phone(1)
	boom := errors.New("users table is down")
	f.fail.Store(&boom)
	_, _, err := f.linker.Resolve(ctx, id)
	require.ErrorIs(t, err, boom)
	noPhone(t, err, id.Phone)
	f.fail.Store(nil)
	f.invalid.Store(true)
	_, _, err = f.linker.Resolve(ctx, id)
	require.ErrorIs(t, err, account.ErrInvalidIdentity)
	f.invalid.Store(false)

	// Nothing was bound: the next attempt creates the user.
	uid, created := f.resolve(t, id)
	assert.True(t, created)
	assert.Equal(t, []account.UnionID{wechatUnionID(id)}, f.links(t, uid).UnionIDs)
}

func testInvalid(t *testing.T, f *fixture) {
	ctx := context.Background()
	ok := f.id(1, "a")
	for _, c := range []struct {
		name string
		edit func(*account.Identity)
		want error
	}{
		{"no appid", func(id *account.Identity) { id.AppID = "" }, account.ErrInvalidIdentity},
		{"no openid", func(id *account.Identity) { id.OpenID = "" }, account.ErrInvalidIdentity},
		{"long openid", func(id *account.Identity) { id.OpenID = strings.Repeat("o", account.MaxIDLen+1) }, account.ErrInvalidIdentity},
		{"NUL in unionid", func(id *account.Identity) { id.UnionID = "u\x00" }, account.ErrInvalidIdentity},
		{"non-ASCII openid", func(id *account.Identity) { id.OpenID = "o-微信" }, account.ErrInvalidIdentity},
		{"unknown platform", func(id *account.Identity) { id.Platform = "myspace" }, account.ErrInvalidIdentity},
		{"platform in capitals", func(id *account.Identity) { id.Platform = "WeChat" }, account.ErrInvalidIdentity},
		{"letters in phone", func(id *account.Identity) { id.Phone = "+86 139 CALL ME" }, account.ErrInvalidPhone},
		{"national non-mobile", func(id *account.Identity) { id.Phone = "2125550123" }, account.ErrInvalidPhone},
		{"short phone", func(id *account.Identity) { id.Phone = "+1234" }, account.ErrInvalidPhone},
	} {
		id := ok
		c.edit(&id)
		_, _, err := f.linker.Resolve(ctx, id)
		assert.ErrorIs(t, err, c.want, c.name)
	}
	assert.ErrorIs(t, f.linker.Delete(ctx, ""), account.ErrInvalidIdentity)
	assert.ErrorIs(t, f.linker.Unbind(ctx, strings.Repeat("u", account.MaxUserIDLen+1), ok), account.ErrInvalidIdentity)
	assert.ErrorIs(t, f.linker.Unbind(ctx, "user", account.Identity{Platform: "myspace", AppID: "a", OpenID: "o"}), account.ErrInvalidIdentity)
	_, err := f.linker.Links(ctx, "bad\xff")
	assert.ErrorIs(t, err, account.ErrInvalidIdentity)
	assert.Zero(t, f.calls.Load())
}

func testCanceled(t *testing.T, f *fixture) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	id := f.id(1, "a")
	id.Phone = f.phone(1)
	_, _, err := f.linker.Resolve(ctx, id)
	require.ErrorIs(t, err, context.Canceled)
	_, created := f.resolve(t, id)
	assert.True(t, created, "a cancelled Resolve binds nothing")
}

// race runs Races Resolves at once, of the identities that id(i) returns.
func race(f *fixture, id func(i int) account.Identity) (uids []string, created int, errs []error) {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range Races {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			uid, c, err := f.linker.Resolve(context.Background(), id(i))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			uids = append(uids, uid)
			if c {
				created++
			}
		}()
	}
	close(start)
	wg.Wait()
	return uids, created, errs
}

func testRacePhone(t *testing.T, f *fixture) {
	phone := f.phone(1)
	uids, created, errs := race(f, func(i int) account.Identity {
		id := f.id(1, fmt.Sprint(i))
		id.Phone = phone
		return id
	})
	for _, err := range errs {
		require.ErrorIs(t, err, account.ErrPhoneTaken, "the losers of a phone race get ErrPhoneTaken and nothing else")
		noPhone(t, err, phone)
	}
	require.Len(t, uids, 1, "one of %d openids gets the phone", Races)
	assert.Len(t, errs, Races-1)
	assert.Equal(t, 1, created)
	l := f.links(t, uids[0])
	assert.Len(t, l.OpenIDs, 1)
	assert.Equal(t, mustNormalize(t, phone), l.Phone)
}

func testRaceOpenID(t *testing.T, f *fixture) {
	id := f.id(1, "a")
	id.UnionID = "u-" + f.run
	id.Phone = f.phone(1)
	uids, created, errs := race(f, func(int) account.Identity { return id })
	require.Empty(t, errs)
	require.Len(t, uids, Races)
	for _, u := range uids {
		require.Equal(t, uids[0], u, "one openid, one user")
	}
	assert.Equal(t, 1, created)
	l := f.links(t, uids[0])
	assert.Equal(t, []account.UnionID{wechatUnionID(id)}, l.UnionIDs)
	assert.Len(t, l.OpenIDs, 1)
}

func testRaceUnionID(t *testing.T, f *fixture) {
	a := f.id(0, "a")
	a.UnionID = "u-" + f.run
	a.Phone = f.phone(1)
	uid, _ := f.resolve(t, a)
	// Every app's openid of the same person at once, by unionid alone;
	// half of them also log in twice.
	uids, created, errs := race(f, func(i int) account.Identity {
		id := f.id(1+i/2, "x")
		id.UnionID = a.UnionID
		return id
	})
	require.Empty(t, errs)
	assert.Zero(t, created)
	for _, u := range uids {
		require.Equal(t, uid, u)
	}
	assert.Len(t, f.links(t, uid).OpenIDs, 1+Races/2)
}

// testTxTaken drives the store's Tx directly: refused binds are ErrTaken,
// change nothing, and the transaction goes on and commits; reads see the
// transaction's own writes; Links are sorted.
func testTxTaken(t *testing.T, f *fixture) {
	ctx := context.Background()
	u1, u2 := "tx-1-"+f.run, "tx-2-"+f.run
	phone := mustNormalize(t, f.phone(1))
	err := f.store.Update(ctx, func(ctx context.Context, tx account.Tx) error {
		require.NoError(t, tx.BindPhone(ctx, u1, phone))
		got, err := tx.UserByPhone(ctx, phone)
		require.NoError(t, err)
		assert.Equal(t, u1, got, "a transaction reads its own writes")
		assert.ErrorIs(t, tx.BindPhone(ctx, u2, phone), account.ErrTaken, "a phone has one user")
		assert.ErrorIs(t, tx.BindPhone(ctx, u1, mustNormalize(t, f.phone(2))), account.ErrTaken, "a user has one phone")
		require.NoError(t, tx.BindOpenID(ctx, u1, wx("wx-b", "o-b-"+f.run)))
		require.NoError(t, tx.BindOpenID(ctx, u1, wx("wx-a", "o-a-"+f.run)))
		assert.ErrorIs(t, tx.BindOpenID(ctx, u2, wx("wx-a", "o-a-"+f.run)), account.ErrTaken, "an openid has one user")
		assert.ErrorIs(t, tx.BindOpenID(ctx, u1, wx("wx-a", "o-other-"+f.run)), account.ErrTaken, "a user has one openid an app")
		// The same appid and openid on another platform is another app's
		// openid: u1 may have it too, and so may another user.
		dy := account.OpenID{Platform: miniauth.Douyin, AppID: "wx-a", OpenID: "o-a-" + f.run}
		require.NoError(t, tx.BindOpenID(ctx, u1, dy), "an app is a platform and an appid")
		assert.ErrorIs(t, tx.BindOpenID(ctx, u1, account.OpenID{Platform: miniauth.Douyin, AppID: "wx-a", OpenID: "o-x-" + f.run}),
			account.ErrTaken, "a user has one openid an app, on every platform")
		require.NoError(t, tx.BindOpenID(ctx, u2, account.OpenID{Platform: miniauth.QQ, AppID: "wx-a", OpenID: "o-a-" + f.run}))
		require.NoError(t, tx.BindUnionID(ctx, u1, wxu("u-z-"+f.run)))
		require.NoError(t, tx.BindUnionID(ctx, u1, wxu("u-a-"+f.run)))
		assert.ErrorIs(t, tx.BindUnionID(ctx, u2, wxu("u-a-"+f.run)), account.ErrTaken)
		require.NoError(t, tx.BindUnionID(ctx, u2, account.UnionID{Platform: miniauth.Douyin, UnionID: "u-a-" + f.run}),
			"the same unionid on another platform is another unionid")
		got, err = tx.UserByUnionID(ctx, account.UnionID{Platform: miniauth.Douyin, UnionID: "u-a-" + f.run})
		require.NoError(t, err)
		assert.Equal(t, u2, got)
		got, err = tx.UserByOpenID(ctx, dy)
		require.NoError(t, err)
		assert.Equal(t, u1, got)
		_, err = tx.UserByOpenID(ctx, wx("wx-a", "o-other-"+f.run))
		assert.ErrorIs(t, err, account.ErrNotRegistered)
		_, err = tx.UserByOpenID(ctx, account.OpenID{Platform: miniauth.Alipay, AppID: "wx-a", OpenID: "o-a-" + f.run})
		assert.ErrorIs(t, err, account.ErrNotRegistered)
		_, err = tx.UserByUnionID(ctx, wxu("u-none-"+f.run))
		assert.ErrorIs(t, err, account.ErrNotRegistered)
		_, err = tx.UserByUnionID(ctx, account.UnionID{Platform: miniauth.QQ, UnionID: "u-a-" + f.run})
		assert.ErrorIs(t, err, account.ErrNotRegistered)
		return nil
	})
	require.NoError(t, err, "the transaction commits after refused binds")
	l := f.links(t, u1)
	assert.Equal(t, phone, l.Phone)
	assert.Equal(t, []account.OpenID{
		{Platform: miniauth.Douyin, AppID: "wx-a", OpenID: "o-a-" + f.run},
		wx("wx-a", "o-a-"+f.run), wx("wx-b", "o-b-"+f.run),
	}, l.OpenIDs, "sorted by platform, then appid")
	assert.Equal(t, []account.UnionID{wxu("u-a-" + f.run), wxu("u-z-" + f.run)}, l.UnionIDs)
	l2 := f.links(t, u2)
	assert.Empty(t, l2.Phone)
	assert.Equal(t, []account.OpenID{{Platform: miniauth.QQ, AppID: "wx-a", OpenID: "o-a-" + f.run}}, l2.OpenIDs)
	assert.Equal(t, []account.UnionID{{Platform: miniauth.Douyin, UnionID: "u-a-" + f.run}}, l2.UnionIDs)
}

// testTxRollback: an Update whose fn fails keeps none of its writes, and
// returns fn's error.
func testTxRollback(t *testing.T, f *fixture) {
	ctx := context.Background()
	uid := "tx-" + f.run
	a := f.id(1, "a")
	a.Phone = f.phone(1)
	existing, _ := f.resolve(t, a)
	phone := mustNormalize(t, f.phone(2))
	boom := errors.New("boom")
	err := f.store.Update(ctx, func(ctx context.Context, tx account.Tx) error {
		require.NoError(t, tx.BindPhone(ctx, uid, phone))
		require.NoError(t, tx.BindOpenID(ctx, uid, wx("wx-a", "o-a-"+f.run)))
		require.NoError(t, tx.BindUnionID(ctx, uid, wxu("u-a-"+f.run)))
		require.NoError(t, tx.DeleteUser(ctx, existing))
		return boom
	})
	require.ErrorIs(t, err, boom)
	l := f.links(t, uid)
	assert.Empty(t, l.Phone)
	assert.Empty(t, l.OpenIDs)
	assert.Empty(t, l.UnionIDs)
	assert.Len(t, f.links(t, existing).OpenIDs, 1, "the deletion rolled back")
	got, _ := f.resolve(t, a)
	assert.Equal(t, existing, got)
}

// testUnionIDPerPlatform: a unionid means something only on its platform.
// The same string from WeChat and from Douyin is two people, and a login
// with the other platform's unionid finds no one.
func testUnionIDPerPlatform(t *testing.T, f *fixture) {
	ctx := context.Background()
	union := "u-" + f.run
	w := f.on(miniauth.WeChat, 1, "w")
	w.UnionID, w.Phone = union, f.phone(1)
	uidW, _ := f.resolve(t, w)

	d := f.on(miniauth.Douyin, 1, "d") // even the same appid string
	d.UnionID = union
	_, _, err := f.linker.Resolve(ctx, d)
	require.ErrorIs(t, err, account.ErrNotRegistered, "a WeChat unionid does not find a Douyin identity")

	d.Phone = f.phone(2)
	uidD, created := f.resolve(t, d)
	assert.True(t, created)
	assert.NotEqual(t, uidW, uidD, "the same unionid on two platforms is two people")
	assert.Equal(t, []account.UnionID{{Platform: miniauth.Douyin, UnionID: union}}, f.links(t, uidD).UnionIDs)
	assert.Equal(t, []account.UnionID{{Platform: miniauth.WeChat, UnionID: union}}, f.links(t, uidW).UnionIDs)

	// Each platform's unionid finds its own user in another app of that
	// platform.
	w2 := f.on("", 2, "w2") // no platform: WeChat
	w2.UnionID = union
	got, _ := f.resolve(t, w2)
	assert.Equal(t, uidW, got)
	d2 := f.on(miniauth.Douyin, 2, "d2")
	d2.UnionID = union
	got, _ = f.resolve(t, d2)
	assert.Equal(t, uidD, got)
	assert.Equal(t, []account.OpenID{openIDOf(d), openIDOf(d2)}, f.links(t, uidD).OpenIDs)
	assert.Equal(t, []account.OpenID{openIDOf(w), openIDOf(w2)}, f.links(t, uidW).OpenIDs)
	assert.EqualValues(t, 2, f.calls.Load())
}

// testPhoneAcrossPlatforms: a phone joins a person's WeChat and Douyin
// identities into one user, and Links tell each link's platform.
func testPhoneAcrossPlatforms(t *testing.T, f *fixture) {
	ctx := context.Background()
	phone := f.phone(1)
	w := f.on(miniauth.WeChat, 1, "a")
	w.UnionID, w.Phone = "u-w-"+f.run, phone
	uid, created := f.resolve(t, w)
	require.True(t, created)

	d := f.on(miniauth.Douyin, 7, "b")
	d.UnionID, d.Phone = "u-d-"+f.run, phone
	got, created := f.resolve(t, d)
	assert.Equal(t, uid, got, "the phone joins the Douyin identity to the WeChat one's user")
	assert.False(t, created)
	a := f.on(miniauth.Alipay, 1, "c") // Alipay has no unionid; the appid string is the WeChat app's
	a.Phone = phone
	got, _ = f.resolve(t, a)
	assert.Equal(t, uid, got, "an appid on another platform is another app")
	assert.EqualValues(t, 1, f.calls.Load())

	l := f.links(t, uid)
	assert.Equal(t, mustNormalize(t, phone), l.Phone)
	assert.Equal(t, []account.OpenID{openIDOf(a), openIDOf(d), openIDOf(w)}, l.OpenIDs, "sorted by platform")
	assert.Equal(t, []account.UnionID{{Platform: miniauth.Douyin, UnionID: d.UnionID}, {Platform: miniauth.WeChat, UnionID: w.UnionID}}, l.UnionIDs)

	// Each identity now logs in without the phone, on its own platform only.
	for _, id := range []account.Identity{w, d, a} {
		id.Phone = ""
		got, _ := f.resolve(t, id)
		assert.Equal(t, uid, got, string(id.Platform))
	}
	q := d
	q.Platform, q.Phone, q.UnionID = miniauth.QQ, "", ""
	_, _, err := f.linker.Resolve(ctx, q)
	require.ErrorIs(t, err, account.ErrNotRegistered, "a Douyin openid does not log in on QQ")

	require.NoError(t, f.linker.Delete(ctx, uid))
	l = f.links(t, uid)
	assert.Empty(t, l.OpenIDs, "Delete removes the links of every platform")
	assert.Empty(t, l.UnionIDs)
}

// testPhoneTakenPerApp: "phone bound to another openid: refuse" means
// another openid of the same app, the same platform and appid.
func testPhoneTakenPerApp(t *testing.T, f *fixture) {
	ctx := context.Background()
	phone := f.phone(1)
	d := f.on(miniauth.Douyin, 1, "a")
	d.Phone = phone
	uid, _ := f.resolve(t, d)

	d2 := f.on(miniauth.Douyin, 1, "b") // the same Douyin app, another openid
	d2.Phone = phone
	_, _, err := f.linker.Resolve(ctx, d2)
	require.ErrorIs(t, err, account.ErrPhoneTaken)
	noPhone(t, err, phone)

	w := f.on(miniauth.WeChat, 1, "b") // the same appid and openid strings, on WeChat
	w.OpenID = d2.OpenID
	w.Phone = phone
	got, created := f.resolve(t, w)
	assert.Equal(t, uid, got, "the phone's user gains the openid of another platform")
	assert.False(t, created)
	w2 := f.on("", 1, "c") // another openid of that WeChat app
	w2.Phone = phone
	_, _, err = f.linker.Resolve(ctx, w2)
	require.ErrorIs(t, err, account.ErrPhoneTaken, "an identity without a platform is of the WeChat app")
	assert.Len(t, f.links(t, uid).OpenIDs, 2)
}

// testUnbindPerPlatform: Unbind removes the link of the identity's own
// platform only.
func testUnbindPerPlatform(t *testing.T, f *fixture) {
	ctx := context.Background()
	phone := f.phone(1)
	w := f.on("", 1, "a")
	w.UnionID, w.Phone = "u-"+f.run, phone
	uid, _ := f.resolve(t, w)
	d := w
	d.Platform = miniauth.Douyin
	got, _ := f.resolve(t, d)
	require.Equal(t, uid, got)
	require.Len(t, f.links(t, uid).OpenIDs, 2)

	require.NoError(t, f.linker.Unbind(ctx, uid, account.Identity{Platform: miniauth.Douyin, AppID: d.AppID, OpenID: d.OpenID, UnionID: d.UnionID}))
	l := f.links(t, uid)
	assert.Equal(t, []account.OpenID{wechatOpenID(w)}, l.OpenIDs, "the WeChat openid of the same strings stays")
	assert.Equal(t, []account.UnionID{wechatUnionID(w)}, l.UnionIDs)
	require.NoError(t, f.linker.Unbind(ctx, uid, account.Identity{AppID: w.AppID, OpenID: w.OpenID}))
	assert.Empty(t, f.links(t, uid).OpenIDs, "no platform: WeChat")
}

// testRacePlatforms: one person's identities of every platform log in with
// one new phone at once, twice each: one user, every identity bound to it.
func testRacePlatforms(t *testing.T, f *fixture) {
	phone := f.phone(1)
	platforms := miniauth.Platforms()
	id := func(i int) account.Identity {
		id := f.on(platforms[i%len(platforms)], i/(2*len(platforms)), "x")
		id.UnionID, id.Phone = "u-"+f.run, phone
		return id
	}
	distinct := map[account.OpenID]bool{}
	for i := range Races {
		distinct[openIDOf(id(i))] = true
	}
	uids, created, errs := race(f, id)
	require.Empty(t, errs)
	require.Len(t, uids, Races)
	for _, u := range uids {
		require.Equal(t, uids[0], u, "one phone, one user")
	}
	assert.Equal(t, 1, created)
	l := f.links(t, uids[0])
	assert.Len(t, l.UnionIDs, len(platforms), "the unionid once on each platform")
	assert.Len(t, l.OpenIDs, len(distinct))
}
