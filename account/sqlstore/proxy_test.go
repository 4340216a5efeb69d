package sqlstore_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// proxy is a TCP proxy on the loopback interface in front of a database
// server, which a test can cut (every connection closed, new ones refused
// at once: a dead server) or freeze (bytes stop flowing both ways and new
// connections hang: a SIGSTOPped server), and restore.
type proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cond   *sync.Cond
	state  int // proxyUp, proxyCut, proxyFrozen
	conns  map[net.Conn]struct{}
	closed bool
}

const (
	proxyUp = iota
	proxyCut
	proxyFrozen
)

// newProxy starts a proxy to target (host:port), closed at the end of t.
func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr returns the proxy's host:port.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) set(state int) {
	p.mu.Lock()
	p.state = state
	if state == proxyCut {
		for c := range p.conns {
			_ = c.Close()
		}
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

// Cut closes every connection and refuses new ones until Restore.
func (p *proxy) Cut() { p.set(proxyCut) }

// Freeze stops every byte until Restore (or Cut).
func (p *proxy) Freeze() { p.set(proxyFrozen) }

// Restore lets connections through again.
func (p *proxy) Restore() { p.set(proxyUp) }

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.set(proxyCut)
	_ = p.ln.Close()
}

// track adds c to the connections a Cut closes, or reports false (and
// closes c) when the proxy is cut.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == proxyCut || p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

// pass waits while the proxy is frozen and reports whether bytes may flow.
func (p *proxy) pass() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.state == proxyFrozen {
		p.cond.Wait()
	}
	return p.state == proxyUp && !p.closed
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *proxy) serve(client net.Conn) {
	if !p.pass() || !p.track(client) {
		_ = client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.track(server) {
		_ = client.Close()
		if server != nil {
			_ = server.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	go p.pipe(server, client, done)
	go p.pipe(client, server, done)
	<-done
	_ = client.Close()
	_ = server.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// pipe copies from src to dst, holding each chunk while the proxy is frozen.
func (p *proxy) pipe(dst, src net.Conn, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.pass() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			return
		}
	}
}
