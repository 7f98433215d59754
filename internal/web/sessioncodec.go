package web

import (
	"maps"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// memoCodec is scs's gob codec with its decodings remembered by the stored bytes: a signed-in
// client's session row changes rarely (activity is recorded in app.user_sessions, not in it),
// and decoding gob compiles a decoder on every call (about a tenth of a cached page view's CPU).
// The key is the whole encoded session, deadline included, so equal bytes decode to equal
// values; each caller gets its own copy of the map (scs changes it on Put). At most max
// decodings are kept; the lot is dropped when full.
type memoCodec struct {
	scs.GobCodec
	max int

	mu   sync.Mutex
	seen map[string]decodedSession
}

type decodedSession struct {
	deadline time.Time
	values   map[string]any
}

func (c *memoCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	c.mu.Lock()
	d, ok := c.seen[string(b)]
	c.mu.Unlock()
	if ok {
		return d.deadline, maps.Clone(d.values), nil
	}
	deadline, values, err := c.GobCodec.Decode(b)
	if err != nil {
		return deadline, values, err
	}
	if _, secret := values[keySecret]; secret {
		// A one-time password waiting to be shown once is never kept beyond this request.
		return deadline, values, nil
	}
	c.mu.Lock()
	if c.seen == nil || len(c.seen) >= c.max {
		c.seen = map[string]decodedSession{}
	}
	c.seen[string(b)] = decodedSession{deadline: deadline, values: maps.Clone(values)}
	c.mu.Unlock()
	return deadline, values, nil
}
