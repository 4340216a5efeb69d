package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wxmp/miniauth/internal/redistest"
	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/session/redisstore"
)

// keysHook records the keys of each command the client sends, as Redis
// Cluster routes them: EVAL and EVALSHA name theirs after numkeys; every
// other command here names one key, its first argument.
type keysHook struct {
	mu   sync.Mutex
	cmds [][]string // name, then keys
}

func (h *keysHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *keysHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.record(c)
		}
		return next(ctx, cmds)
	}
}

func (h *keysHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, c redis.Cmder) error {
		h.record(c)
		return next(ctx, c)
	}
}

func (h *keysHook) record(c redis.Cmder) {
	args := c.Args()
	name := strings.ToLower(fmt.Sprint(args[0]))
	var keys []string
	switch name {
	case "eval", "evalsha":
		var n int
		_, _ = fmt.Sscan(fmt.Sprint(args[2]), &n)
		for _, k := range args[3 : 3+n] {
			keys = append(keys, fmt.Sprint(k))
		}
	default:
		if len(args) > 1 {
			keys = []string{fmt.Sprint(args[1])}
		}
	}
	h.mu.Lock()
	h.cmds = append(h.cmds, append([]string{name}, keys...))
	h.mu.Unlock()
}

// slot returns what Redis Cluster hashes of key: the part in its first
// braces, when not empty.
func slot(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// TestRenewOneKeyPerCommand checks what Redis Cluster needs of a renewal:
// no command spans two slots; the script's keys are the owner's index and
// the subject's links, whose braces keep an owner in one slot. It also counts the renewal's round
// trips: two (the index, then SET ... XX).
func TestRenewOneKeyPerCommand(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	hook := &keysHook{}
	c.AddHook(hook)
	s, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	require.NoError(t, err)
	ctx := context.Background()
	key := randomKey()
	rec := testRecord()
	rec.Subject = "user-42"
	require.NoError(t, s.Put(ctx, key, rec, time.Hour))

	hook.mu.Lock()
	hook.cmds = nil
	hook.mu.Unlock()
	next := *rec
	next.IdleExpiresAt = rec.IssuedAt.Add(30 * time.Minute)
	require.NoError(t, s.Renew(ctx, key, &next, time.Hour))

	hook.mu.Lock()
	cmds := hook.cmds
	hook.mu.Unlock()
	var names []string
	for _, cmd := range cmds {
		names = append(names, cmd[0])
		for _, k := range cmd[1:] {
			assert.Equal(t, slot(cmd[1]), slot(k), "%s spans two slots: %v", cmd[0], cmd[1:])
		}
	}
	// go-redis tries EVALSHA and falls back to EVAL once per script.
	assert.Contains(t, [][]string{{"evalsha", "set"}, {"evalsha", "eval", "set"}}, names)
	for _, cmd := range cmds {
		switch cmd[0] {
		case "evalsha", "eval":
			assert.Equal(t, []string{prefix + "subject:{user-42}", prefix + "evicted:{user-42}", prefix + "links:{user-42}"}, cmd[1:])
		case "set":
			assert.Equal(t, prefix+key, cmd[1])
		}
	}
	got, err := s.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, next.IdleExpiresAt.UTC(), got.IdleExpiresAt.UTC())
	var _ session.RenewStore = s
}
