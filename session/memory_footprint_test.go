package session_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/wxmp/miniauth/session"
	"github.com/wxmp/miniauth/wxauth"
)

// heapAlloc returns the live heap after a full collection.
func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// realisticSession returns a session shaped as WeChat's are: an 18-byte
// appid, 28-byte openid and unionid, a 24-byte session_key.
func realisticSession(i int) *wxauth.Session {
	return &wxauth.Session{
		AppID:      "wx1234567890abcdef",
		OpenID:     fmt.Sprintf("oGZUI0egBJY1zhBYw2K%09d", i),
		UnionID:    fmt.Sprintf("ocMvos6NjeKLIBqg5Mr%09d", i),
		SessionKey: fmt.Sprintf("tiihtNczf5v6AK%08d==", i),
	}
}

// BenchmarkMemoryStoreFootprint fills a Manager's default memory store to
// DefaultMaxEntries with realistic sessions (half of them with a subject),
// then churns through as many again (each login evicting one), then
// through 2 M issues in all, and reports the live heap after each: the
// figures DefaultMaxEntries documents. Run it with
//
//	go test -run '^$' -bench MemoryStoreFootprint -benchtime 1x ./session/
func BenchmarkMemoryStoreFootprint(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		before := heapAlloc()
		m := session.NewManager(nil)
		issue := func(i int) {
			var opts []session.IssueOption
			if i%2 == 0 {
				opts = append(opts, session.ForSubject(fmt.Sprintf("user-%08d", i)))
			}
			if _, err := m.Issue(ctx, realisticSession(i), opts...); err != nil {
				b.Fatal(err)
			}
		}
		for i := range session.DefaultMaxEntries {
			issue(i)
		}
		full := heapAlloc() - before
		for i := range session.DefaultMaxEntries {
			issue(session.DefaultMaxEntries + i)
		}
		churned := heapAlloc() - before
		// Eighteen turnovers more: 2 M issues in all, where the figure
		// settles (Go maps keep the room of deleted entries).
		for i := range 18 * session.DefaultMaxEntries {
			issue(2*session.DefaultMaxEntries + i)
		}
		settled := heapAlloc() - before
		b.ReportMetric(float64(full)/(1<<20), "MiB-full")
		b.ReportMetric(float64(churned)/(1<<20), "MiB-churned")
		b.ReportMetric(float64(settled)/(1<<20), "MiB-2M-issues")
		b.ReportMetric(float64(full)/float64(session.DefaultMaxEntries), "B/session")
		runtime.KeepAlive(m)
		_ = m.Close()
	}
}
