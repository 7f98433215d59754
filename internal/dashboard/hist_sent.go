package dashboard

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// readHistsSent is readHists as the dashboard read histograms before pgx decoded its arrays:
// each array sent as array_send bytes and parsed by hand (sentInts). Kept for one measurement
// against readHists (BenchmarkHistEncodings, TestHistEncodingsAgree).
func readHistsSent(ctx context.Context, tx pg.Tx, tenantID int64, g Filter, inboxes []int32, metrics []int16, perInbox bool) (*hists, error) {
	h := &hists{}
	if perInbox {
		h.firstReply = map[int32]*histogram{}
	}
	if inboxes == nil {
		rows, err := tx.RollupTenantHistSent(ctx, dbsqlc.RollupTenantHistSentParams{TenantID: tenantID, FromDay: g.From, ToDay: g.To, Metrics: metrics, ByInbox: perInbox})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if err := h.addRowSent(-1, r.Metric, r.Day, r.Buckets, r.Counts); err != nil {
				return nil, err
			}
			if perInbox && r.Metric == metricFirstReply {
				if err := h.addPacked(r.ByInbox); err != nil {
					return nil, err
				}
			}
		}
		return h, nil
	}
	rows, err := tx.RollupInboxHistSent(ctx, dbsqlc.RollupInboxHistSentParams{TenantID: tenantID, FromDay: g.From, ToDay: g.To, Metrics: metrics, Inboxes: inboxes})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		inbox := int32(-1)
		if perInbox {
			inbox = r.InboxID
		}
		if err := h.addRowSent(inbox, r.Metric, r.Day, r.Buckets, r.Counts); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// addRowSent merges one row's histogram (array_send arrays) of metric on day; inbox ≥ 0 also merges
// a first reply into that inbox's histogram.
func (h *hists) addRowSent(inbox int32, metric int16, day time.Time, buckets, counts []byte) error {
	var err error
	if h.buckets, err = sentInts(buckets, 2, h.buckets[:0]); err != nil {
		return err
	}
	if h.counts, err = sentInts(counts, 4, h.counts[:0]); err != nil {
		return err
	}
	if len(h.buckets) != len(h.counts) {
		return errSentArray
	}
	dow := day.Weekday()
	for i, b := range h.buckets {
		h.add(metric, dow, b, h.counts[i])
	}
	if inbox >= 0 && metric == metricFirstReply {
		ib := h.inbox(inbox)
		for i, b := range h.buckets {
			if b >= 0 && b < histBuckets {
				ib[b] += h.counts[i]
			}
		}
	}
	return nil
}

// errSentArray is a malformed array_send value.
var errSentArray = errors.New("dashboard: malformed binary array")

// sentInts appends to dst the elements of b, a one-dimensional array of non-null integers
// of width bytes (2: smallint, 4: integer) in PostgreSQL's binary format (array_send): ndim,
// has-nulls flag and element type, then per dimension its length and lower bound, then per
// element its byte length and big-endian value.
func sentInts(b []byte, width int, dst []int64) ([]int64, error) {
	if len(b) < 12 {
		return dst, errSentArray
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	if ndim == 0 {
		return dst, nil
	}
	if ndim != 1 || len(b) < 20 {
		return dst, errSentArray
	}
	n := int(int32(binary.BigEndian.Uint32(b[12:])))
	b = b[20:]
	if n < 0 || len(b) != n*(4+width) {
		return dst, errSentArray
	}
	for i := 0; i < n; i++ {
		if int(int32(binary.BigEndian.Uint32(b))) != width {
			return dst, errSentArray
		}
		switch width {
		case 2:
			dst = append(dst, int64(int16(binary.BigEndian.Uint16(b[4:]))))
		case 4:
			dst = append(dst, int64(int32(binary.BigEndian.Uint32(b[4:]))))
		default:
			return dst, errSentArray
		}
		b = b[4+width:]
	}
	return dst, nil
}
