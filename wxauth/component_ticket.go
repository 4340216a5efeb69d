package wxauth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wxmp/miniauth/internal/redact"
)

// How the component's pushes are framed and checked, from WeChat's
// "message encryption" pages
// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Technical_Plan.html,
// https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/Message_encryption_and_decryption.html):
// the POST body is <xml><AppId/><Encrypt/></xml>; the query carries
// timestamp, nonce, encrypt_type=aes and msg_signature = hex(sha1 of the
// sorted, concatenated token, timestamp, nonce and Encrypt); Encrypt is
// base64 of AES-256-CBC (key = base64(EncodingAESKey + "="), iv = its first
// 16 bytes, PKCS#7 padding to a multiple of 32 bytes) of 16 random bytes,
// the 4-byte big-endian length of the XML, the XML, and the appid of the
// component.
const (
	// maxPushLen caps the body of a push that [Component.TicketHandler]
	// reads (64 KiB); a larger one is refused 413. Pushes are under 2 KiB.
	maxPushLen = 64 << 10
	// maxPushQueryLen caps each of msg_signature, timestamp and nonce.
	maxPushQueryLen = 128
	// aesBlock32 is the PKCS#7 block size of the pushes: 32, not AES's 16.
	aesBlock32 = 32
	// pushLockWait bounds how long a push waits for the store's ticket
	// lock that another instance holds (saving a ticket takes
	// milliseconds).
	pushLockWait = 2 * time.Second
	// pushLockTTL is the store lock a push holds while it saves its ticket.
	pushLockTTL = 5 * time.Second
	// pushPoll is how long a push waits between tries of a taken lock
	// (plus up to as much again of jitter).
	pushPoll = 50 * time.Millisecond
)

// InfoType values of the pushes WeChat sends a component
// (https://developers.weixin.qq.com/doc/oplatform/Third-party_Platforms/2.0/api/Before_Develop/authorize_event.html).
const (
	InfoAuthorized       = "authorized"
	InfoUnauthorized     = "unauthorized"
	InfoUpdateAuthorized = "updateauthorized"
)

// infoTicket is the InfoType of the ticket push, which TicketHandler keeps
// itself.
const infoTicket = "component_verify_ticket"

// ComponentEvent is a push to [Component.TicketHandler] other than the
// ticket, decrypted and checked, as [WithComponentEvents] receives it. Its
// fields are those of WeChat's XML; fields a push type lacks are empty. Its
// Format (every fmt verb), LogValue and encoding/json leave its
// AuthorizationCode (a credential) out.
type ComponentEvent struct {
	// AppID is the component's appid.
	AppID string `xml:"AppId"`
	// CreateTime is when WeChat made the push, in Unix seconds.
	CreateTime int64 `xml:"CreateTime"`
	// InfoType is the push's type: [InfoAuthorized],
	// [InfoUnauthorized], [InfoUpdateAuthorized], or another WeChat adds.
	InfoType string `xml:"InfoType"`
	// AuthorizerAppID is the mini-program's appid.
	AuthorizerAppID string `xml:"AuthorizerAppid"`
	// AuthorizationCode (authorized, updateauthorized) is exchanged with
	// [Component.QueryAuth] for the mini-program's refresh token.
	AuthorizationCode string `xml:"AuthorizationCode" json:"-"`
	// AuthorizationCodeExpiredTime is when AuthorizationCode expires, in
	// Unix seconds.
	AuthorizationCodeExpiredTime int64 `xml:"AuthorizationCodeExpiredTime"`
	// PreAuthCode is the pre-authorization code the authorization used.
	PreAuthCode string `xml:"PreAuthCode"`
	// Raw is the decrypted XML, for the fields of push types this struct
	// does not know. It holds the AuthorizationCode too, and is left out of
	// printing, logs and JSON as that is.
	Raw []byte `xml:"-" json:"-"`
}

func (e ComponentEvent) safe() string {
	code := ""
	if e.AuthorizationCode != "" {
		code = "REDACTED"
	}
	return fmt.Sprintf("wxauth.ComponentEvent{InfoType: %q, AppID: %q, AuthorizerAppID: %q, CreateTime: %d, AuthorizationCode: %q}",
		e.InfoType, e.AppID, e.AuthorizerAppID, e.CreateTime, code)
}

// Format prints the event without its authorization code, whatever the verb.
func (e ComponentEvent) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(e.safe())) }

// LogValue returns the event for log/slog without its authorization code.
func (e ComponentEvent) LogValue() slog.Value {
	return slog.GroupValue(slog.String("info_type", e.InfoType), slog.String("appid", e.AppID),
		slog.String("authorizer_appid", e.AuthorizerAppID), slog.Int64("create_time", e.CreateTime))
}

// pushMessage is the decrypted XML of a push: the event's fields and the
// ticket's.
type pushMessage struct {
	XMLName xml.Name `xml:"xml"`
	ComponentEvent
	Ticket string `xml:"ComponentVerifyTicket"`
}

// pushEnvelope is the POST body of a push.
type pushEnvelope struct {
	XMLName    xml.Name `xml:"xml"`
	AppID      string   `xml:"AppId"`
	ToUserName string   `xml:"ToUserName"`
	Encrypt    string   `xml:"Encrypt"`
}

// errPush is a push refused as malformed or forged: answered 400, never
// "success". Its text never holds the push's contents.
var errPush = errors.New("wxauth: component push refused")

// TicketHandler returns the handler of the component's authorization event
// URL (授权事件接收URL): WeChat pushes the component_verify_ticket there
// every ten minutes, and the authorized, updateauthorized and unauthorized
// events.
//
// A push is accepted only when its msg_signature checks (in constant time)
// with the component's Token, it decrypts with the EncodingAESKey, and the
// appid it carries, inside the ciphertext and out, is the component's. An
// accepted ticket is kept in the [TokenStore] with its CreateTime and
// expiry (12 hours) and answered "success"; other push types are
// handed to [WithComponentEvents] and answered "success" (or 500 when that
// handler fails, so that WeChat pushes again).
//
// A refused push never gets "success": 405 for a method other than POST,
// 413 for a body over 64 KiB, 400 for a missing or wrong signature,
// a body that is not the XML envelope, a ciphertext that does not decrypt,
// a foreign appid or a ticket that is malformed or older than its 12 hours.
// A store that fails gets 503, and WeChat pushes again later.
//
// Replays: the query's timestamp is not held to a window, since WeChat
// itself redelivers a push it got no "success" for with its first
// timestamp, and a clock skew would otherwise stall every login. A replay
// cannot do harm instead: its signature proves WeChat made it, a ticket
// never replaces a newer one (CreateTime decides), and one older than its
// 12-hour life is refused.
func (c *Component) TicketHandler() http.Handler {
	return http.HandlerFunc(c.servePush)
}

func (c *Component) servePush(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writePushStatus(w, http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPushLen))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writePushStatus(w, http.StatusRequestEntityTooLarge)
		} else {
			writePushStatus(w, http.StatusBadRequest)
		}
		return
	}
	q := r.URL.Query()
	msg, err := c.openPush(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), body)
	if err != nil {
		c.app.cfg.logger.LogAttrs(r.Context(), slog.LevelWarn, "wxauth: component: push refused", slog.String("error", err.Error()))
		writePushStatus(w, http.StatusBadRequest)
		return
	}
	status := c.handlePush(r.Context(), msg)
	if status != http.StatusOK {
		writePushStatus(w, status)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "success")
}

// writePushStatus answers a push with status and its text, never "success".
func writePushStatus(w http.ResponseWriter, status int) {
	http.Error(w, http.StatusText(status), status)
}

// handlePush acts on a checked push and returns the status to answer.
func (c *Component) handlePush(ctx context.Context, msg *pushMessage) int {
	log := c.app.cfg.logger
	if msg.InfoType == InfoUnauthorized && msg.AuthorizerAppID != "" {
		// The app's tokens die with its authorization: this process stops
		// caching them (the store's entry expires with its token).
		c.st.mu.Lock()
		delete(c.st.authorizers, msg.AuthorizerAppID)
		c.st.mu.Unlock()
	}
	if msg.InfoType != infoTicket {
		if c.opts.events == nil {
			log.LogAttrs(ctx, slog.LevelDebug, "wxauth: component: push without a handler", slog.String("info_type", msg.InfoType))
			return http.StatusOK
		}
		ev := msg.ComponentEvent
		if err := c.opts.events(ctx, &ev); err != nil {
			log.LogAttrs(ctx, slog.LevelError, "wxauth: component: event handler failed; WeChat will push again",
				slog.String("info_type", msg.InfoType), slog.String("error", redact.Strings(err.Error(), ev.AuthorizationCode)))
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	now := c.app.cfg.now()
	if !validTicket(msg.Ticket) {
		log.LogAttrs(ctx, slog.LevelWarn, "wxauth: component: push refused: malformed ticket")
		return http.StatusBadRequest
	}
	issued := time.Unix(msg.CreateTime, 0)
	if msg.CreateTime <= 0 || issued.After(now) {
		issued = now // a clock ahead of ours must not stretch the ticket's life
	}
	tok := &Token{AccessToken: msg.Ticket, IssuedAt: issued, ExpiresAt: issued.Add(ticketTTL)}
	if !now.Before(tok.ExpiresAt) {
		log.LogAttrs(ctx, slog.LevelWarn, "wxauth: component: push refused: ticket older than 12 hours",
			slog.Time("create_time", issued))
		return http.StatusBadRequest
	}
	c.keepTicket(tok)
	if err := c.saveTicket(ctx, tok); err != nil {
		log.LogAttrs(ctx, slog.LevelError, "wxauth: component: storing the ticket failed; WeChat will push again",
			slog.String("error", redact.Strings(err.Error(), tok.AccessToken)))
		return http.StatusServiceUnavailable
	}
	log.LogAttrs(ctx, slog.LevelDebug, "wxauth: component: ticket received", slog.Time("expires_at", tok.ExpiresAt))
	return http.StatusOK
}

// keepTicket makes tok this process's own ticket unless it has a newer one.
func (c *Component) keepTicket(tok *Token) {
	for {
		cur := c.st.ticket.Load()
		if cur != nil && !tok.IssuedAt.After(cur.IssuedAt) {
			return
		}
		if c.st.ticket.CompareAndSwap(cur, tok) {
			return
		}
	}
}

// saveTicket stores tok as the fleet's ticket unless the store holds a
// newer one, under the store's lock of the ticket's key.
func (c *Component) saveTicket(ctx context.Context, tok *Token) error {
	key := ticketKey(c.appID)
	ctx, cancel := context.WithTimeout(ctx, pushLockWait+pushLockTTL)
	defer cancel()
	deadline := time.Now().Add(pushLockWait)
	for {
		lease, ok, err := c.store.TryLock(ctx, key, pushLockTTL)
		if err != nil {
			return err
		}
		if ok {
			defer func() { _ = lease.Unlock(context.WithoutCancel(ctx)) }()
			cur, err := c.store.Load(ctx, key)
			if err != nil {
				return err
			}
			if cur != nil && cur.IssuedAt.After(tok.IssuedAt) {
				return nil // a newer ticket is there already
			}
			return lease.Save(ctx, tok)
		}
		if time.Now().After(deadline) {
			return errors.New("wxauth: component: the ticket's store lock stayed taken")
		}
		t := time.NewTimer(pushPoll + rand.N(pushPoll))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// openPush checks a push's signature, decrypts it and checks its appids.
// Its errors match errPush and never quote the push.
func (c *Component) openPush(signature, timestamp, nonce string, body []byte) (*pushMessage, error) {
	if signature == "" || timestamp == "" || nonce == "" ||
		len(signature) > maxPushQueryLen || len(timestamp) > maxPushQueryLen || len(nonce) > maxPushQueryLen {
		return nil, fmt.Errorf("%w: msg_signature, timestamp and nonce must be 1 to %d bytes", errPush, maxPushQueryLen)
	}
	env, err := parseEnvelope(body)
	if err != nil {
		return nil, err
	}
	if env.AppID != "" && env.AppID != c.appID {
		return nil, fmt.Errorf("%w: for another appid", errPush)
	}
	if !checkMsgSignature(c.token, timestamp, nonce, env.Encrypt, signature) {
		return nil, fmt.Errorf("%w: msg_signature does not match", errPush)
	}
	plain, err := decryptPush(c.aesKey, env.Encrypt, c.appID)
	if err != nil && c.opts.prevKey != nil {
		plain, err = decryptPush(c.opts.prevKey, env.Encrypt, c.appID)
	}
	if err != nil {
		return nil, err
	}
	msg, err := parsePushMessage(plain)
	if err != nil {
		return nil, err
	}
	if msg.AppID != c.appID {
		return nil, fmt.Errorf("%w: message for another appid", errPush)
	}
	return msg, nil
}

// parseEnvelope reads the POST body of a push: <xml> with Encrypt.
func parseEnvelope(body []byte) (*pushEnvelope, error) {
	var env pushEnvelope
	if err := decodeXML(body, &env); err != nil || env.Encrypt == "" {
		return nil, fmt.Errorf("%w: body is not an XML envelope with Encrypt", errPush)
	}
	return &env, nil
}

// parsePushMessage reads the decrypted XML of a push.
func parsePushMessage(plain []byte) (*pushMessage, error) {
	var msg pushMessage
	if err := decodeXML(plain, &msg); err != nil || msg.InfoType == "" {
		return nil, fmt.Errorf("%w: decrypted message is not XML with an InfoType", errPush)
	}
	msg.Raw = slices.Clone(plain)
	return &msg, nil
}

// decodeXML decodes one XML document into v, in strict mode, and refuses
// anything but white space after it.
func decodeXML(b []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.CharsetReader = nil // only UTF-8: a declared other charset fails
	if err := d.Decode(v); err != nil {
		return err
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errors.New("text after the document")
			}
		case xml.Comment, xml.ProcInst:
		default:
			return errors.New("a second element after the document")
		}
	}
}

// msgSignature returns WeChat's msg_signature of a push: hex(sha1) of
// token, timestamp, nonce and encrypt, sorted and concatenated.
func msgSignature(token, timestamp, nonce, encrypt string) string {
	parts := []string{token, timestamp, nonce, encrypt}
	slices.Sort(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// checkMsgSignature compares signature (hex, either case) with the push's
// msg_signature in constant time.
func checkMsgSignature(token, timestamp, nonce, encrypt, signature string) bool {
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha1.Size {
		return false
	}
	want, _ := hex.DecodeString(msgSignature(token, timestamp, nonce, encrypt))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// decryptPush decrypts the Encrypt of a push and returns its XML, after
// checking its frame and that its trailing appid is appID. Every failure
// is the one errPush text: a push is checked for its signature first, so
// this is no padding oracle, but a refused one tells nothing anyway.
func decryptPush(key []byte, encrypt, appID string) ([]byte, error) {
	bad := fmt.Errorf("%w: message does not decrypt", errPush)
	ct, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil || len(ct) == 0 || len(ct)%aes.BlockSize != 0 || len(key) != 32 {
		return nil, bad
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, bad
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, ct)
	n := int(plain[len(plain)-1])
	if n < 1 || n > aesBlock32 || n > len(plain) {
		return nil, bad
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, bad
		}
	}
	plain = plain[:len(plain)-n]
	if len(plain) < 20 {
		return nil, bad
	}
	size := binary.BigEndian.Uint32(plain[16:20])
	if uint64(size) > uint64(len(plain)-20) {
		return nil, bad
	}
	msg, trailer := plain[20:20+size], plain[20+size:]
	if string(trailer) != appID {
		return nil, fmt.Errorf("%w: message for another appid", errPush)
	}
	return msg, nil
}
