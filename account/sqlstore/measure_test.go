package sqlstore_test

import (
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMeasureOutage measures what a 10 s outage of the account database
// costs a login service under 50 clients that log in with a phone code in
// a loop: the wx.login and phone codes WeChat exchanged during the outage,
// the logins refused, and the log lines above Debug. It runs only with
// MINIAUTH_MEASURE=1 (it takes 15 s a server), and reports with t.Log:
//
//	MINIAUTH_MEASURE=1 go test -run TestMeasureOutage -v ./account/sqlstore/
func TestMeasureOutage(t *testing.T) {
	if os.Getenv("MINIAUTH_MEASURE") != "1" {
		t.Skip("set MINIAUTH_MEASURE=1 to measure a 10 s database outage at 50 clients")
	}
	for _, kind := range []string{"MySQL", "PostgreSQL"} {
		t.Run(kind, func(t *testing.T) {
			s := newLoginStack(t, kind)
			var stop atomic.Bool
			var refused, ok atomic.Int64
			var wg sync.WaitGroup
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for !stop.Load() {
						status, _ := s.phoneLogin(t)
						switch status {
						case http.StatusOK:
							ok.Add(1)
						default:
							refused.Add(1)
						}
					}
				}()
			}
			time.Sleep(time.Second)
			l0, p0 := s.spent()
			ok0, r0 := ok.Load(), refused.Load()
			s.proxy.Cut()
			time.Sleep(10 * time.Second)
			l1, p1 := s.spent()
			ok1, r1 := ok.Load(), refused.Load()
			s.proxy.Restore()
			time.Sleep(3 * time.Second)
			stop.Store(true)
			wg.Wait()
			t.Logf("%s, 10 s outage at 50 clients: %d wx.login codes and %d phone codes spent, %d logins refused, %d served; %d log lines above Debug: %q",
				kind, l1-l0, p1-p0, r1-r0, ok1-ok0, len(s.logs.aboveDebug()), s.logs.aboveDebug())
		})
	}
}

// TestMeasureFreeze measures how long the first login waits for its answer
// when the account database freezes (its process stopped) for 10 s. It runs
// only with MINIAUTH_MEASURE=1:
//
//	MINIAUTH_MEASURE=1 go test -run TestMeasureFreeze -v ./account/sqlstore/
func TestMeasureFreeze(t *testing.T) {
	if os.Getenv("MINIAUTH_MEASURE") != "1" {
		t.Skip("set MINIAUTH_MEASURE=1 to measure a 10 s database freeze")
	}
	for _, kind := range []string{"MySQL", "PostgreSQL"} {
		t.Run(kind, func(t *testing.T) {
			s := newLoginStack(t, kind)
			status, _ := s.phoneLogin(t)
			if status != http.StatusOK {
				t.Fatalf("warm-up login: %d", status)
			}
			s.proxy.Freeze()
			thaw := time.AfterFunc(10*time.Second, s.proxy.Restore)
			defer thaw.Stop()
			start := time.Now()
			status, body := s.phoneLogin(t)
			t.Logf("%s frozen: first answer %d %v after %v", kind, status, body["error"], time.Since(start).Round(time.Millisecond))
		})
	}
}
