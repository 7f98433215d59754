package pg

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/geniai/analytics/internal/dbsqlc"
)

// Replica is a streaming replica of the primary that read-only page and API transactions may use
// (DATABASE_READ_URL). A monitor samples the primary's WAL position every Interval and the
// replica's replay position; the replica's lag is the age of the newest primary sample it has
// replayed past, so an idle primary never makes a caught-up replica look late. The replica is
// used only while that lag is at most MaxLag and its last probe succeeded; otherwise, and when a
// transaction cannot reach it, reads go to the primary.
type Replica struct {
	Pool     *pgxpool.Pool
	MaxLag   time.Duration // default 5s
	Interval time.Duration // default 500ms
	Logger   *slog.Logger

	mu      sync.Mutex
	samples []walSample // the primary's positions, oldest first, over the last minute
	lag     time.Duration
	healthy bool
	probed  time.Time
	reason  string
}

type walSample struct {
	at  time.Time
	pos int64
}

// ReplicaStatus is the monitor's latest view (metrics, tests).
type ReplicaStatus struct {
	Healthy bool
	Lag     time.Duration
	Reason  string // why it is not used, when it is not
}

// OpenReplica connects to a replica (DATABASE_READ_URL) with the pool options of the primary. A
// replica that does not answer yet is not an error: the monitor keeps trying, reads go to the
// primary meanwhile.
func OpenReplica(ctx context.Context, url string, o Options) (*Replica, error) {
	cfg, err := poolConfig(url, o)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, MapError(err)
	}
	return &Replica{Pool: pool, reason: "not probed yet"}, nil
}

// UseReplica makes r serve db's read-only transactions that allow it (WithReplica) and starts
// its monitor, which stops with ctx.
func (db *DB) UseReplica(ctx context.Context, r *Replica) {
	db.replica = r
	go r.monitor(ctx, db.Pool)
}

// Replica returns the replica in use, nil when none is configured.
func (db *DB) Replica() *Replica { return db.replica }

type replicaKey struct{}

// WithReplica marks ctx's read-only transactions as allowed on the replica: pages and API calls
// that only show data. The request's principal check never carries it (it must see a suspension
// or a password change at once), nor does anything that reads to decide a write.
func WithReplica(ctx context.Context) context.Context {
	return context.WithValue(ctx, replicaKey{}, true)
}

func replicaAllowed(ctx context.Context) bool {
	ok, _ := ctx.Value(replicaKey{}).(bool)
	return ok
}

// Status is the monitor's latest view.
func (r *Replica) Status() ReplicaStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statusLocked()
}

func (r *Replica) statusLocked() ReplicaStatus {
	st := ReplicaStatus{Healthy: r.healthy, Lag: r.lag, Reason: r.reason}
	if st.Healthy && time.Since(r.probed) > 3*r.interval()+time.Second {
		st.Healthy, st.Reason = false, "no recent probe"
	}
	return st
}

func (r *Replica) usable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statusLocked().Healthy
}

// markDown stops using the replica until the next successful probe.
func (r *Replica) markDown(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.healthy && r.Logger != nil {
		r.Logger.Warn("read replica unavailable: reading from the primary", "reason", reason)
	}
	r.healthy, r.reason = false, reason
}

// SetMaxLag changes the bound while the monitor runs.
func (r *Replica) SetMaxLag(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.MaxLag = d
}

// maxLag is MaxLag or its default (callers hold mu).
func (r *Replica) maxLag() time.Duration {
	if r.MaxLag > 0 {
		return r.MaxLag
	}
	return 5 * time.Second
}

func (r *Replica) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return 500 * time.Millisecond
}

func (r *Replica) monitor(ctx context.Context, primary *pgxpool.Pool) {
	t := time.NewTicker(r.interval())
	defer t.Stop()
	defer r.Pool.Close()
	for {
		r.Probe(ctx, primary)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Probe samples the primary, then the replica, and updates the replica's lag and health (the
// monitor calls it every Interval; tests call it to not wait).
func (r *Replica) Probe(ctx context.Context, primary *pgxpool.Pool) {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pos, err := dbsqlc.New(primary).ReplicaPrimaryPosition(pctx)
	now := time.Now()
	r.mu.Lock()
	if err == nil {
		r.samples = append(r.samples, walSample{at: now, pos: pos})
		for len(r.samples) > 1 && now.Sub(r.samples[0].at) > time.Minute {
			r.samples = r.samples[1:]
		}
	}
	r.mu.Unlock()
	rep, rerr := dbsqlc.New(r.Pool).ReplicaReplayPosition(pctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	was := r.healthy
	switch {
	case rerr != nil:
		r.healthy, r.reason = false, "unreachable: "+rerr.Error()
	case !rep.InRecovery:
		r.healthy, r.reason = false, "DATABASE_READ_URL is not a replica (not in recovery)"
	case len(r.samples) == 0:
		r.healthy, r.reason = false, "the primary's position is unknown"
	default:
		// The newest primary sample the replica has replayed past dates its data.
		lag := time.Duration(-1)
		for i := len(r.samples) - 1; i >= 0; i-- {
			if rep.Position >= r.samples[i].pos {
				lag = now.Sub(r.samples[i].at)
				if i == len(r.samples)-1 {
					lag = 0 // caught up with the latest sample
				}
				break
			}
		}
		if lag < 0 {
			lag = now.Sub(r.samples[0].at) + r.interval() // older than anything sampled
		}
		r.lag = lag
		if lag > r.maxLag() {
			r.healthy, r.reason = false, "lagging "+lag.Round(time.Millisecond).String()+" behind the primary"
		} else {
			r.healthy, r.reason = true, ""
		}
	}
	r.probed = now
	if was != r.healthy && r.Logger != nil {
		if r.healthy {
			r.Logger.Info("read replica in use", "lag", r.lag)
		} else {
			r.Logger.Warn("read replica not used: reading from the primary", "reason", r.reason)
		}
	}
}

// readPool picks where a read-only transaction runs: the replica when ctx allows it and it is
// healthy, else the primary.
func (db *DB) readPool(ctx context.Context) (*pgxpool.Pool, bool) {
	if r := db.replica; r != nil && replicaAllowed(ctx) && r.usable() {
		return r.Pool, true
	}
	return db.Pool, false
}

// inReadTxRouted runs a read-only transaction on the replica when allowed and healthy; when the
// replica cannot be reached (a connection error, not an error of the query) it is marked down and
// the transaction runs again on the primary.
func (db *DB) inReadTxRouted(ctx context.Context, p Principal, fn func(tx Tx) error) error {
	pool, onReplica := db.readPool(ctx)
	err := inTx(ctx, pool, p, readTx, fn)
	if onReplica && err != nil && unreachable(ctx, err) {
		db.replica.markDown("a transaction failed: " + err.Error())
		return inTx(ctx, db.Pool, p, readTx, fn)
	}
	return err
}

// unreachable reports whether err means the server could not be used (connection refused,
// closed or reset, a server shutting down), as opposed to an error of the statements themselves.
func unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exceptions; 57P01-57P03: shutting down, crashed, starting up.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}
