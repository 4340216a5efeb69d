package wxauthtest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// aesKeyOf returns the AESKey of an EncodingAESKey: base64 of it with "="
// appended, 32 bytes.
func aesKeyOf(encodingAESKey string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if len(encodingAESKey) != 43 || err != nil || len(key) != 32 {
		return nil, errors.New("wxauthtest: EncodingAESKey must be 43 characters of base64 that decode to 32 bytes")
	}
	return key, nil
}

// NewEncodingAESKey returns a random EncodingAESKey as WeChat's console
// makes them: 43 letters and digits.
func NewEncodingAESKey() string {
	for {
		k := randomString(43, alnumAlphabet)
		if _, err := aesKeyOf(k); err == nil {
			return k
		}
	}
}

// SealPush frames msg (the XML of a push) as WeChat pushes it to a
// third-party platform, with the platform's message-check token and
// EncodingAESKey, and appID as the ciphertext's trailing appid: it
// returns the query (timestamp, nonce, encrypt_type, signature and
// msg_signature) and the body (<xml> with AppId and Encrypt) to POST.
//
// The message is encrypted with AES-256-CBC (key from the EncodingAESKey,
// iv its first 16 bytes, PKCS#7 padding to 32 bytes) after 16 random bytes
// and its 4-byte big-endian length, and msg_signature is hex(sha1) of the
// sorted token, timestamp, nonce and ciphertext
// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Technical_Plan.html).
// It is for tests of a push handler that need a push of their own making
// (another appid, a tampered signature, a message that is not XML); a
// [ComponentServer]'s PushTicket and PushEvent use it.
func SealPush(token, encodingAESKey, appID string, msg []byte, now time.Time) (url.Values, []byte, error) {
	key, err := aesKeyOf(encodingAESKey)
	if err != nil {
		return nil, nil, err
	}
	plain := make([]byte, 0, 20+len(msg)+len(appID)+32)
	plain = append(plain, randomBytes(16)...)
	plain = binary.BigEndian.AppendUint32(plain, uint32(len(msg)))
	plain = append(plain, msg...)
	plain = append(plain, appID...)
	pad := 32 - len(plain)%32
	plain = append(plain, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("wxauthtest: %w", err)
	}
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(ct, plain)
	enc := base64.StdEncoding.EncodeToString(ct)
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := strconv.FormatUint(uint64(binary.BigEndian.Uint32(randomBytes(4))), 10)
	q := url.Values{
		"timestamp":     {ts},
		"nonce":         {nonce},
		"encrypt_type":  {"aes"},
		"signature":     {sha1Sorted(token, ts, nonce)},
		"msg_signature": {sha1Sorted(token, ts, nonce, enc)},
	}
	body := fmt.Sprintf("<xml>\n    <AppId><![CDATA[%s]]></AppId>\n    <Encrypt><![CDATA[%s]]></Encrypt>\n</xml>", appID, enc)
	return q, []byte(body), nil
}

// sha1Sorted is hex(sha1) of parts, sorted and concatenated: WeChat's
// signature and msg_signature.
func sha1Sorted(parts ...string) string {
	s := slices.Clone(parts)
	slices.Sort(s)
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// PushError is a push that the handler did not answer "success" to.
type PushError struct {
	// StatusCode is the handler's HTTP status.
	StatusCode int
	// Body is the start of the handler's answer.
	Body string
}

func (e *PushError) Error() string {
	return fmt.Sprintf("wxauthtest: push answered %d %q, not success", e.StatusCode, e.Body)
}

// PushTicket does what WeChat does every ten minutes: it issues a new
// component_verify_ticket (valid for [TicketTTL]; api_component_token
// accepts every ticket pushed within that time) and POSTs it, signed and
// encrypted, to the component's handler at handlerURL (the address of
// wxauth's Component.TicketHandler). It returns nil when the handler
// answers "success", a [*PushError] when it answers anything else, or the
// error of the request.
func (cs *ComponentServer) PushTicket(ctx context.Context, handlerURL string) error {
	now := cs.now()
	ticket := "ticket@@@" + randomString(86, urlAlphabet)
	cs.mu.Lock()
	kept := cs.tickets[:0]
	for _, t := range cs.tickets {
		if now.Before(t.issued.Add(TicketTTL)) {
			kept = append(kept, t)
		}
	}
	cs.tickets = append(kept, issuedTicket{value: ticket, issued: now})
	cs.mu.Unlock()
	msg := fmt.Sprintf("<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType><ComponentVerifyTicket><![CDATA[%s]]></ComponentVerifyTicket></xml>",
		cs.appID, now.Unix(), ticket)
	return cs.Push(ctx, handlerURL, []byte(msg))
}

// PushEvent pushes an authorization event of the mini-program appID to the
// component's handler, as WeChat does when the app's administrator acts
// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/authorize_event.html):
// "authorized" and "updateauthorized" authorize the app (see
// [ComponentServer.Authorize]) and carry a new authorization code for
// api_query_auth, valid for [AuthorizationCodeTTL]; "unauthorized"
// withdraws the authorization first ([ComponentServer.Unauthorize]).
// Other types are pushed with the appid alone. It answers as PushTicket
// does.
func (cs *ComponentServer) PushEvent(ctx context.Context, handlerURL, infoType, appID string) error {
	now := cs.now()
	var extra string
	switch infoType {
	case "authorized", "updateauthorized":
		cs.Authorize(appID)
		code := "queryauthcode@@@" + randomString(64, urlAlphabet)
		cs.mu.Lock()
		cs.authCodes[code] = &authCode{appID: appID, issued: now}
		cs.mu.Unlock()
		extra = fmt.Sprintf("<AuthorizationCode><![CDATA[%s]]></AuthorizationCode><AuthorizationCodeExpiredTime>%d</AuthorizationCodeExpiredTime><PreAuthCode><![CDATA[preauthcode@@@%s]]></PreAuthCode>",
			code, now.Add(AuthorizationCodeTTL).Unix(), randomString(32, urlAlphabet))
	case "unauthorized":
		cs.Unauthorize(appID)
	}
	msg := fmt.Sprintf("<xml><AppId><![CDATA[%s]]></AppId><CreateTime>%d</CreateTime><InfoType><![CDATA[%s]]></InfoType><AuthorizerAppid><![CDATA[%s]]></AuthorizerAppid>%s</xml>",
		cs.appID, now.Unix(), infoType, appID, extra)
	return cs.Push(ctx, handlerURL, []byte(msg))
}

// Push POSTs msg, sealed with [SealPush] for this component, to the
// handler at handlerURL, and answers as PushTicket does.
func (cs *ComponentServer) Push(ctx context.Context, handlerURL string, msg []byte) error {
	q, body, err := SealPush(cs.token, cs.encodingAESKey, cs.appID, msg, cs.now())
	if err != nil {
		return err
	}
	return PostPush(ctx, handlerURL, q, body)
}

// PostPush POSTs a push (the query and body from [SealPush]) to
// handlerURL as WeChat does, and returns nil when the handler answers
// "success", a [*PushError] when it answers anything else.
func PostPush(ctx context.Context, handlerURL string, q url.Values, body []byte) error {
	u, err := url.Parse(handlerURL)
	if err != nil {
		return fmt.Errorf("wxauthtest: handler URL: %w", err)
	}
	uq := u.Query()
	for k, v := range q {
		uq[k] = v
	}
	u.RawQuery = uq.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("wxauthtest: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	// A client of its own: a test may have replaced http.DefaultTransport.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("wxauthtest: push: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK || string(b) != "success" {
		return &PushError{StatusCode: resp.StatusCode, Body: string(b)}
	}
	return nil
}
