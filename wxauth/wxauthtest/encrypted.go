package wxauthtest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"time"
)

// EncryptedDataTTL is how long checkencryptedmsg vouches for encryptedData
// after WeChat produced it: "只能检测最近3天生成的加密数据"
// (https://developers.weixin.qq.com/miniprogram/dev/server/API/user-info/basic-info/api_checkencrypteddata.html).
const EncryptedDataTTL = 72 * time.Hour

// producedData remembers the encryptedData the server handed out, by the
// hex SHA-256 of its base64 text (what checkencryptedmsg is sent), with the
// time of the server's clock when it was made. s.mu guards it.
type producedData struct {
	at        map[string]time.Time
	lastSweep time.Time
}

// remember records encryptedData made at now, and forgets, at most once an
// hour of the server's clock, what is past [EncryptedDataTTL], so that a
// long-running server does not grow.
func (p *producedData) remember(encryptedData string, now time.Time) {
	if p.at == nil {
		p.at = make(map[string]time.Time)
	}
	if now.Before(p.lastSweep) || now.Sub(p.lastSweep) >= time.Hour {
		p.lastSweep = now
		for h, t := range p.at {
			if now.Sub(t) >= EncryptedDataTTL {
				delete(p.at, h)
			}
		}
	}
	p.at[hashOf(encryptedData)] = now
}

// hashOf returns the hex SHA-256 of encryptedData's text.
func hashOf(encryptedData string) string {
	sum := sha256.Sum256([]byte(encryptedData))
	return hex.EncodeToString(sum[:])
}

// checkEncryptedReply is checkencryptedmsg's success, with WeChat's spelling
// of "vaild".
type checkEncryptedReply struct {
	errReply
	Vaild      bool  `json:"vaild"`
	CreateTime int64 `json:"create_time"`
}

// checkEncrypted serves POST /wxa/business/checkencryptedmsg: errcode 0
// with vaild true and create_time for a hash of encryptedData the server
// produced in the last [EncryptedDataTTL] (by its clock), and WeChat's
// errcode 1, "data not exit", for any other: never made here, or too old.
// A hash that is not 64 hex digits is 40097 (invalid args).
func (s *Server) checkEncrypted(q url.Values, body []byte) any {
	var req struct {
		Hash string `json:"encrypted_msg_hash"`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if code := s.tokens.check(q.Get("access_token"), now); code != 0 {
		return s.apiError(code)
	}
	if code := decodeBody(body, &req); code != 0 {
		return s.apiError(code)
	}
	if req.Hash == "" {
		return s.apiError(47001)
	}
	if b, err := hex.DecodeString(req.Hash); err != nil || len(b) != sha256.Size {
		return s.apiError(40097)
	}
	at, ok := s.produced.at[req.Hash]
	if !ok || now.Sub(at) >= EncryptedDataTTL || now.Before(at) {
		return s.apiError(1)
	}
	return checkEncryptedReply{errReply: okReply, Vaild: true, CreateTime: at.Unix()}
}
