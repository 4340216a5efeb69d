package engine

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"sync"
)

// Reply is what one endpoint's reply body decodes into: a pointer to a
// struct, usually embedding the platform's error envelope of that
// endpoint (errcode/errmsg, err_no/err_tips, error/error_description,
// result/error_msg, ...), whose methods are then Reply's.
//
// The body it is decoded from is reused once the call returns: a Reply
// must keep no slice of it (encoding/json copies what it stores; a
// [BodyDecoder] or an UnmarshalJSON must copy too).
type Reply interface {
	// Failed reports whether the decoded reply says the call failed. It
	// is called on every reply, so it must be cheap and allocate nothing.
	Failed() bool
	// Err returns the error of a failed reply (the platform's typed
	// error, such as *wxauth.APIError, with any text taken from the reply
	// cleaned by s) and whether the call may be retried: the platform's
	// "busy, try again" code, never a code after which a retry could do
	// harm (a code already spent).
	Err(op string, s Scrubber) (retry bool, err error)
}

// BodyDecoder is implemented by a [Reply] that decodes its body itself: a
// fast path for a hot endpoint's common shape, or a reply that needs the
// raw bytes (Alipay's signature over the raw JSON of its response). An
// error made by [Malformed] fails the call with that reason; any other
// error fails it as "not a JSON object". DecodeBody must leave nothing of
// an earlier decode in the reply.
type BodyDecoder interface {
	DecodeBody(body []byte) error
}

// Decode decodes body into out: by out's own DecodeBody when it is a
// [BodyDecoder], otherwise by encoding/json into out zeroed first, so that
// nothing of an earlier attempt survives.
func Decode(body []byte, out Reply) error {
	if d, ok := out.(BodyDecoder); ok {
		return d.DecodeBody(body)
	}
	reflect.ValueOf(out).Elem().SetZero()
	return json.Unmarshal(body, out)
}

// MaxBodyLen caps every reply body a [Client] reads.
const MaxBodyLen = 1 << 20

// errBodyTooLarge is readBody's error for a body over MaxBodyLen.
var errBodyTooLarge = errors.New("engine: reply body too large")

// readBody reads r to its end into *buf (grown as needed, and kept there for
// the next use if it stays small) and returns what it read, or
// errBodyTooLarge past MaxBodyLen bytes.
func readBody(r io.Reader, buf *[]byte) ([]byte, error) {
	b := (*buf)[:0]
	defer func() {
		if cap(b) <= maxPooledBuf {
			*buf = b[:0]
		}
	}()
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if len(b) > MaxBodyLen {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Sizes of the body buffers a Client reuses: replies are a few hundred
// bytes; a buffer that grew past maxPooledBuf for a large reply is not
// kept.
const (
	pooledBufLen = 1 << 10
	maxPooledBuf = 64 << 10
)

// newBufPool returns the pool of body buffers of one Client.
func newBufPool() *sync.Pool {
	return &sync.Pool{New: func() any {
		b := make([]byte, 0, pooledBufLen)
		return &b
	}}
}
