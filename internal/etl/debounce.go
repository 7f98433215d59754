package etl

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Debouncer turns bursts of change notices (Chatwoot webhooks) into few syncs: the first notice
// for a tenant starts a timer of Delay; notices meanwhile join it; when it fires the tenant is
// synced. A notice during that sync schedules one more after it, so a change is never left
// unsynced and a tenant never has two syncs at once from here. At most Concurrency tenants sync
// at once. The interval scheduler still runs as the safety net for lost notices.
type Debouncer struct {
	Delay       time.Duration                                   // default 2s
	Concurrency int                                             // default 2
	Sync        func(ctx context.Context, tenantID int64) error // the tenant's incremental sync
	Logger      *slog.Logger

	once    sync.Once
	slots   chan struct{}
	mu      sync.Mutex
	tenants map[int64]*debounceState
	ctx     context.Context
}

type debounceState struct {
	timer   *time.Timer // pending: a sync will start when it fires
	running bool
	again   bool // a notice came during the running sync
}

// Start binds the debouncer to ctx: syncs run under it and stop with it.
func (d *Debouncer) Start(ctx context.Context) {
	d.init()
	d.mu.Lock()
	d.ctx = ctx
	d.mu.Unlock()
}

func (d *Debouncer) init() {
	d.once.Do(func() {
		n := d.Concurrency
		if n <= 0 {
			n = 2
		}
		d.slots = make(chan struct{}, n)
		d.tenants = map[int64]*debounceState{}
		if d.ctx == nil {
			d.ctx = context.Background()
		}
	})
}

func (d *Debouncer) delay() time.Duration {
	if d.Delay > 0 {
		return d.Delay
	}
	return 2 * time.Second
}

// Notify records that tenantID's data changed in Chatwoot.
func (d *Debouncer) Notify(tenantID int64) {
	d.init()
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.tenants[tenantID]
	if st == nil {
		st = &debounceState{}
		d.tenants[tenantID] = st
	}
	switch {
	case st.timer != nil: // joins the pending sync
	case st.running:
		st.again = true
	default:
		st.timer = time.AfterFunc(d.delay(), func() { d.fire(tenantID) })
	}
}

func (d *Debouncer) fire(tenantID int64) {
	d.mu.Lock()
	st := d.tenants[tenantID]
	st.timer, st.running = nil, true
	ctx := d.ctx
	d.mu.Unlock()

	select {
	case d.slots <- struct{}{}:
	case <-ctx.Done():
	}
	var err error
	if ctx.Err() == nil {
		err = d.Sync(ctx, tenantID)
		<-d.slots
	}
	if err != nil && d.Logger != nil {
		d.Logger.Warn("webhook sync failed; the scheduler will retry", "tenant_id", tenantID, "err", failureMessage(err))
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	st.running = false
	if st.again && ctx.Err() == nil {
		st.again = false
		st.timer = time.AfterFunc(d.delay(), func() { d.fire(tenantID) })
		return
	}
	delete(d.tenants, tenantID)
}
