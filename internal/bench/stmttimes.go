package bench

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// stmtTimes is a pgx tracer that times each statement by its sqlc name (the first line's
// "-- name: X"), once on is set: where the RLS phase finds the difference between two roles.
type stmtTimes struct {
	mu   sync.Mutex
	on   bool
	d    map[string][]time.Duration
	seen map[string]int // statements so far in the current transaction: a repeat is "name#2"
}

type stmtStart struct {
	name string
	t0   time.Time
}

type stmtKey struct{}

func newStmtTimes() *stmtTimes {
	return &stmtTimes{d: map[string][]time.Duration{}, seen: map[string]int{}}
}

func (s *stmtTimes) TraceQueryStart(ctx context.Context, _ *pgx.Conn, q pgx.TraceQueryStartData) context.Context {
	name, ok := strings.CutPrefix(q.SQL, "-- name: ")
	if ok {
		name, _, _ = strings.Cut(name, " ")
	} else {
		name, _, _ = strings.Cut(q.SQL, " ")
	}
	// The pools here run one transaction at a time, so the tracer can number a transaction's
	// repeats (the current and previous periods' reads differ in size).
	s.mu.Lock()
	if name == "begin" {
		clear(s.seen)
	}
	s.seen[name]++
	if n := s.seen[name]; n > 1 {
		name = fmt.Sprintf("%s#%d", name, n)
	}
	s.mu.Unlock()
	return context.WithValue(ctx, stmtKey{}, stmtStart{name, time.Now()})
}

func (s *stmtTimes) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	st, ok := ctx.Value(stmtKey{}).(stmtStart)
	if !ok {
		return
	}
	d := time.Since(st.t0)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.on {
		s.d[st.name] = append(s.d[st.name], d)
	}
}

// gaps names the n statements whose median time exceeds other's the most, with the medians.
func (s *stmtTimes) gaps(other *stmtTimes, n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	other.mu.Lock()
	defer other.mu.Unlock()
	type gap struct {
		name string
		a, b float64 // ms
	}
	var gs []gap
	for name, a := range s.d {
		if b := other.d[name]; len(b) > 0 {
			gs = append(gs, gap{name, samples(a).pct(50), samples(b).pct(50)})
		}
	}
	slices.SortFunc(gs, func(x, y gap) int { return cmp.Compare(y.a-y.b, x.a-x.b) })
	var out []string
	for _, g := range gs[:min(n, len(gs))] {
		out = append(out, fmt.Sprintf("%s %.0f vs %.0f µs", g.name, g.a*1000, g.b*1000))
	}
	return strings.Join(out, ", ")
}
