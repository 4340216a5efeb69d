package wxauth

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/wxauth/wxauthtest"
)

const (
	fuzzCompAppID = "wx0c0e1f2a3b4c5d6e"
	fuzzCompToken = "pushTokenQ7x2"
	// fuzzAESKey is a fixed EncodingAESKey, so that seeds stay valid.
	fuzzAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

func fuzzComponent(t testing.TB, opts ...Option) *Component {
	t.Helper()
	c, err := NewComponent(fuzzCompAppID, "c0mp0nent-s3cret-0123456789abcdef", fuzzCompToken, fuzzAESKey, opts...)
	require.NoError(t, err)
	return c
}

func ticketMsg(appID string, created int64, ticket string) []byte {
	return fmt.Appendf(nil, "<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[%s]]></ComponentVerifyTicket></xml>",
		appID, created, ticket)
}

// push serves one sealed push to c's handler and returns the status.
func push(t *testing.T, c *Component, msg []byte, now time.Time) int {
	t.Helper()
	q, body, err := wxauthtest.SealPush(fuzzCompToken, fuzzAESKey, fuzzCompAppID, msg, now)
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	c.TicketHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/?"+q.Encode(), strings.NewReader(string(body))))
	return rec.Code
}

// TestTicketNeverRegresses: a replayed older push is answered success
// (WeChat made it) but does not replace the newer ticket, in the store or
// in memory; a ticket stamped in the future lives 12 hours from now.
func TestTicketNeverRegresses(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	c := fuzzComponent(t, withClock(clk))
	now := clk.Now()
	require.Equal(t, http.StatusOK, push(t, c, ticketMsg(fuzzCompAppID, now.Unix(), "ticket@@@new"), now))
	require.Equal(t, http.StatusOK, push(t, c, ticketMsg(fuzzCompAppID, now.Add(-10*time.Minute).Unix(), "ticket@@@old"), now))
	got, err := c.currentTicket(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ticket@@@new", got)
	st, err := c.store.Load(context.Background(), ticketKey(fuzzCompAppID))
	require.NoError(t, err)
	assert.Equal(t, "ticket@@@new", st.AccessToken)
	assert.WithinDuration(t, time.Unix(now.Unix(), 0).Add(ticketTTL), st.ExpiresAt, 0, "12 hours from CreateTime")

	require.Equal(t, http.StatusOK, push(t, c, ticketMsg(fuzzCompAppID, now.Add(time.Hour).Unix(), "ticket@@@future"), now))
	st, err = c.store.Load(context.Background(), ticketKey(fuzzCompAppID))
	require.NoError(t, err)
	assert.Equal(t, "ticket@@@future", st.AccessToken)
	assert.WithinDuration(t, now.Add(ticketTTL), st.ExpiresAt, 0, "a clock ahead of ours does not stretch the ticket's life")
}

// TestTicketStoreDown: a push that cannot be stored is answered 503 (WeChat
// pushes again), never success; the instance keeps the ticket in memory,
// but mints no component token without the store (fail closed, as a
// classic token).
func TestTicketStoreDown(t *testing.T) {
	t.Parallel()
	down := errStoreDown
	c := fuzzComponent(t, WithTokenStore(failingStore{}))
	now := time.Now()
	assert.Equal(t, http.StatusServiceUnavailable, push(t, c, ticketMsg(fuzzCompAppID, now.Unix(), "ticket@@@kept"), now))
	got, err := c.currentTicket(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ticket@@@kept", got)
	_, err = c.AccessToken(context.Background())
	require.ErrorIs(t, err, down)
}

// FuzzOpenPush feeds arbitrary bodies and query values to the push check:
// it never panics, accepts only what is signed with the component's token
// and sealed for its appid, and its errors never quote the push.
func FuzzOpenPush(f *testing.F) {
	now := time.Unix(1764800000, 0)
	for _, msg := range [][]byte{
		ticketMsg(fuzzCompAppID, now.Unix(), "ticket@@@seed"),
		[]byte("<xml><AppId>" + fuzzCompAppID + "</AppId><InfoType>authorized</InfoType><AuthorizerAppid>wxa</AuthorizerAppid></xml>"),
		[]byte("not xml"), nil,
	} {
		q, body, err := wxauthtest.SealPush(fuzzCompToken, fuzzAESKey, fuzzCompAppID, msg, now)
		require.NoError(f, err)
		f.Add(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), string(body))
	}
	f.Add("", "", "", "")
	f.Add("00", "1", "2", "<xml><Encrypt>AAAA</Encrypt></xml>")
	f.Add("x", "1", "2", "<xml><Encrypt><![CDATA[=]]></Encrypt><Encrypt>b</Encrypt></xml><!-- -->")
	f.Add("x", "1", "2", "<!DOCTYPE xml [<!ENTITY a \"aaaa\">]><xml><Encrypt>&a;</Encrypt></xml>")
	c := fuzzComponent(f)
	f.Fuzz(func(t *testing.T, sig, ts, nonce, body string) {
		msg, err := c.openPush(sig, ts, nonce, []byte(body))
		if err != nil {
			require.Nil(t, msg)
			require.ErrorIs(t, err, errPush)
			require.True(t, strings.HasPrefix(err.Error(), "wxauth: component push refused"), err.Error())
			if len(body) > 40 {
				require.NotContains(t, err.Error(), body)
			}
			return
		}
		env, perr := parseEnvelope([]byte(body))
		require.NoError(t, perr)
		require.True(t, checkMsgSignature(fuzzCompToken, ts, nonce, env.Encrypt, sig), "accepted only when signed")
		require.Equal(t, fuzzCompAppID, msg.AppID)
	})
}

// FuzzDecryptPush feeds arbitrary ciphertexts to the push cipher: never a
// panic, and what it accepts carries the component's appid; a sealed
// message round-trips.
func FuzzDecryptPush(f *testing.F) {
	key, err := decodeAESKey(fuzzAESKey)
	require.NoError(f, err)
	for _, msg := range []string{"<xml/>", "", strings.Repeat("x", 100)} {
		_, body, err := wxauthtest.SealPush(fuzzCompToken, fuzzAESKey, fuzzCompAppID, []byte(msg), time.Unix(1, 0))
		require.NoError(f, err)
		env, err := parseEnvelope(body)
		require.NoError(f, err)
		f.Add(env.Encrypt, msg)
	}
	f.Add("", "")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==", "")
	f.Add("!!!!", "")
	f.Fuzz(func(t *testing.T, encrypt, msg string) {
		plain, err := decryptPush(key, encrypt, fuzzCompAppID)
		if err != nil {
			require.ErrorIs(t, err, errPush)
		} else {
			require.LessOrEqual(t, len(plain), len(encrypt))
		}
		_, body, err := wxauthtest.SealPush(fuzzCompToken, fuzzAESKey, fuzzCompAppID, []byte(msg), time.Unix(1, 0))
		require.NoError(t, err)
		env, err := parseEnvelope(body)
		require.NoError(t, err)
		got, err := decryptPush(key, env.Encrypt, fuzzCompAppID)
		require.NoError(t, err)
		require.Equal(t, msg, string(got))
		_, err = decryptPush(key, env.Encrypt, "wxother")
		require.ErrorIs(t, err, errPush)
	})
}

// FuzzParsePushMessage feeds arbitrary decrypted XML to the message
// parser: never a panic; an accepted message has an InfoType.
func FuzzParsePushMessage(f *testing.F) {
	f.Add(string(ticketMsg(fuzzCompAppID, 1, "t")))
	f.Add("<xml><InfoType>authorized</InfoType><CreateTime>x</CreateTime></xml>")
	f.Add("<xml><InfoType>a</InfoType></xml>trailing")
	f.Add("<?xml version=\"1.0\" encoding=\"GBK\"?><xml><InfoType>a</InfoType></xml>")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		msg, err := parsePushMessage([]byte(s))
		if err != nil {
			require.ErrorIs(t, err, errPush)
			return
		}
		require.NotEmpty(t, msg.InfoType)
		require.Equal(t, s, string(msg.Raw))
	})
}

// TestMsgSignatureKnownAnswer: msg_signature is hex(sha1) of the four
// values sorted byte-wise and concatenated, as WeChat's sample code
// computes it; either case of hex is accepted, in constant time.
func TestMsgSignatureKnownAnswer(t *testing.T) {
	t.Parallel()
	// Sorted: digits, then upper case, then lower case.
	sum := sha1.Sum([]byte("1409304348" + "QDG6eK" + "abc" + "xxxxxx"))
	want := hex.EncodeToString(sum[:])
	assert.Equal(t, want, msgSignature("QDG6eK", "1409304348", "xxxxxx", "abc"))
	assert.True(t, checkMsgSignature("QDG6eK", "1409304348", "xxxxxx", "abc", strings.ToUpper(want)))
	assert.False(t, checkMsgSignature("QDG6eK", "1409304348", "xxxxxx", "abd", want))
	assert.False(t, checkMsgSignature("QDG6eK", "1409304348", "xxxxxx", "abc", want[:38]))
}

// TestTicketConcurrentPushes: WeChat's redeliveries and a fleet's
// instances push at once; every push is answered success and the newest
// ticket wins, in the store and in memory.
func TestTicketConcurrentPushes(t *testing.T) {
	t.Parallel()
	store := NewMemoryTokenStore()
	fleet := []*Component{fuzzComponent(t, WithTokenStore(store)), fuzzComponent(t, WithTokenStore(store)), fuzzComponent(t, WithTokenStore(store))}
	now := time.Now()
	const n = 60
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		created := now.Add(time.Duration(i-n) * time.Second)
		q, body, err := wxauthtest.SealPush(fuzzCompToken, fuzzAESKey, fuzzCompAppID,
			ticketMsg(fuzzCompAppID, created.Unix(), fmt.Sprintf("ticket@@@%02d", i)), now)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			fleet[i%len(fleet)].TicketHandler().ServeHTTP(rec,
				httptest.NewRequest(http.MethodPost, "/?"+q.Encode(), strings.NewReader(string(body))))
			codes <- rec.Code
		}()
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		require.Equal(t, http.StatusOK, code)
	}
	st, err := store.Load(context.Background(), ticketKey(fuzzCompAppID))
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("ticket@@@%02d", n-1), st.AccessToken)
	for _, c := range fleet {
		got, err := c.currentTicket(context.Background())
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("ticket@@@%02d", n-1), got)
	}
}

// TestUnauthorizedDropsTheCache: an unauthorized event drops the app's
// cached token client, so that a withdrawn app's token is not kept.
func TestUnauthorizedDropsTheCache(t *testing.T) {
	t.Parallel()
	c := fuzzComponent(t)
	c.st.authorizers["wxa1b2c3d4e5f60718"] = &App{appID: "wxa1b2c3d4e5f60718"}
	msg := fmt.Appendf(nil, "<xml><AppId>%s</AppId><CreateTime>%d</CreateTime><InfoType>unauthorized</InfoType><AuthorizerAppid>wxa1b2c3d4e5f60718</AuthorizerAppid></xml>",
		fuzzCompAppID, time.Now().Unix())
	require.Equal(t, http.StatusOK, push(t, c, msg, time.Now()))
	assert.Empty(t, c.st.authorizers)
}
