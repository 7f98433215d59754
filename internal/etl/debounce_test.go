package etl

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestDebouncer: a burst of notices makes one sync per tenant; a notice during a sync makes
// exactly one more after it; tenants never sync twice at once.
func TestDebouncer(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	runs := map[int64]int{}
	running := map[int64]bool{}
	release := make(chan struct{})
	started := make(chan int64, 10)
	d := &Debouncer{Delay: 20 * time.Millisecond, Concurrency: 2, Sync: func(ctx context.Context, id int64) error {
		mu.Lock()
		if running[id] {
			t.Errorf("tenant %d synced twice at once", id)
		}
		running[id] = true
		runs[id]++
		mu.Unlock()
		started <- id
		if id == 1 {
			<-release
		}
		mu.Lock()
		running[id] = false
		mu.Unlock()
		return nil
	}}
	d.Start(t.Context())
	for i := 0; i < 20; i++ {
		d.Notify(1)
		d.Notify(2)
	}
	got := map[int64]bool{<-started: true, <-started: true}
	if !got[1] || !got[2] {
		t.Fatalf("the burst started %v, want tenants 1 and 2 once each", got)
	}
	// Tenant 1 is syncing: notices now join one more sync after it.
	for i := 0; i < 5; i++ {
		d.Notify(1)
	}
	select {
	case id := <-started:
		t.Fatalf("tenant %d started again while tenant 1 was still running", id)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if id := <-started; id != 1 {
		t.Fatalf("after the sync, %d started; want tenant 1's follow-up", id)
	}
	waitIdle(t, d)
	mu.Lock()
	defer mu.Unlock()
	if runs[1] != 2 || runs[2] != 1 {
		t.Fatalf("runs %v, want tenant 1 twice (burst, then the notices during it) and tenant 2 once", runs)
	}
}

func waitIdle(t *testing.T, d *Debouncer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		n := len(d.tenants)
		d.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the debouncer never went idle")
}
