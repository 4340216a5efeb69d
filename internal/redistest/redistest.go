// Package redistest connects tests to the real redis-server named by the
// REDIS_ADDR environment variable (host:port), as .ci/run starts one.
//
// Without REDIS_ADDR a test is skipped with a message saying how to run it;
// with CI=true it fails instead, so CI cannot pass by skipping. [Server]
// and [Start] start a private redis-server for tests that stop or freeze it
// mid-run.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Addr returns REDIS_ADDR, or skips t (fails it when CI=true) when unset.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("REDIS_ADDR is not set but CI=true: the Redis tests must run in CI (.ci/run starts redis-server)")
		}
		t.Skip("REDIS_ADDR not set: start redis-server and run with REDIS_ADDR=127.0.0.1:6379 to test against Redis (bash .ci/run does this)")
	}
	return addr
}

// Client returns a client of the server at REDIS_ADDR, pinged and closed at
// the end of the test. A server that does not answer fails the test.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: Addr(t)})
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at REDIS_ADDR=%s does not answer: %v", os.Getenv("REDIS_ADDR"), err)
	}
	return c
}

// Prefix returns a key prefix unique to this test run, so tests that share
// one server (parallel tests, parallel packages) never see each other's
// keys. Keys under it are deleted at the end of the test.
func Prefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := "miniauth-test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, p+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	})
	return p
}

// Server starts a redis-server of the test's own on a free loopback port and
// returns its address and a function that kills it (idempotent; also run at
// the end of the test). It is for tests that stop the server mid-run; other
// tests share the one at REDIS_ADDR through [Client].
//
// Without redis-server on PATH the test is skipped, or fails when CI=true.
func Server(t testing.TB) (addr string, stop func()) {
	t.Helper()
	p := Start(t)
	return p.Addr, p.Stop
}

// Proc is a redis-server started by [Start].
type Proc struct {
	// Addr is the server's host:port.
	Addr string

	cmd  *exec.Cmd
	once sync.Once
}

// Start starts a redis-server of the test's own, as [Server] does, and
// returns it, for tests that freeze it ([Proc.Pause]) as well as stop it.
// At the end of the test it is resumed and killed.
//
// Without redis-server on PATH the test is skipped, or fails when CI=true.
func Start(t testing.TB) *Proc {
	t.Helper()
	return start(t)
}

// StartCluster starts a redis-server of the test's own in cluster mode, one
// node serving all 16384 slots, and returns a cluster client of it, closed
// at the end of the test. A node in cluster mode refuses a command or a
// script whose keys are in different slots (CROSSSLOT), as a real cluster
// does: a store that passes its tests on it keeps to Redis Cluster's rules.
//
// Without redis-server on PATH the test is skipped, or fails when CI=true.
func StartCluster(t testing.TB) *redis.ClusterClient {
	t.Helper()
	dir := t.TempDir()
	p := start(t, "--cluster-enabled", "yes", "--cluster-config-file", dir+"/nodes.conf")
	node := redis.NewClient(&redis.Options{Addr: p.Addr})
	defer func() { _ = node.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slots := make([]int, 16384)
	for i := range slots {
		slots[i] = i
	}
	if err := node.ClusterAddSlots(ctx, slots...).Err(); err != nil {
		t.Fatalf("assigning the slots to the cluster node: %v", err)
	}
	for {
		info, err := node.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the cluster node on %s did not become ready: %v", p.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{p.Addr}})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// start starts a redis-server with the extra arguments.
func start(t testing.TB, extra ...string) *Proc {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH but CI=true (.ci/run installs it)")
		}
		t.Skip("redis-server is not on PATH: install it to run this test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	p := &Proc{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}

	p.cmd = exec.Command(bin, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir()}, extra...)...)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(p.Stop)

	c := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return p
		}
		if time.Now().After(deadline) {
			p.Stop()
			t.Fatalf("redis-server on %s did not answer: %v", p.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server. It may be called more than once.
func (p *Proc) Stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
}
