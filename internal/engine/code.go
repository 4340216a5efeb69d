package engine

import (
	"encoding/json"
	"errors"
	"strconv"
)

// IntCode is a reply's integer status code (the errcode of WeChat, QQ and
// WeCom, in [ErrcodeReply]) that a server may send as a JSON
// number or as a numeric string ("40029"). null and "" decode as 0 (no
// error); anything else that is not an integer fails the decode, and with
// it the reply (not a JSON object). Codes that are words (Baidu's
// "invalid_grant", Alipay's "isv.code-invalid") are plain strings.
type IntCode int

// UnmarshalJSON decodes a JSON number or numeric string.
func (c *IntCode) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			*c = 0
			return nil
		}
		b = []byte(s)
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return errors.New("status code is not an integer")
	}
	*c = IntCode(n)
	return nil
}
