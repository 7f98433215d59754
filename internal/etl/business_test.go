package etl

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/chatwoot/oracle"
	"github.com/geniai/analytics/internal/pgtest"
)

// wh is a working_hours row for the tests: day, closed, open all day, and hours (-1 for NULL).
type wh struct {
	day             int
	closed, openAll bool
	oh, om, ch, cm  int
}

func (w wh) oracle(id int64) oracle.WorkingHour {
	p := func(v int) *int {
		if v < 0 {
			return nil
		}
		return &v
	}
	closed, openAll := w.closed, w.openAll
	return oracle.WorkingHour{ID: id, Day: w.day, ClosedAllDay: &closed, OpenAllDay: &openAll,
		OpenHour: p(w.oh), OpenMinutes: p(w.om), CloseHour: p(w.ch), CloseMins: p(w.cm)}
}

// gym: Monday to Friday 7-22, Saturday 8-14, Sunday closed all day.
var gym = []wh{{0, true, false, -1, -1, -1, -1}, {1, false, false, 7, 0, 22, 0}, {2, false, false, 7, 0, 22, 0},
	{3, false, false, 7, 0, 22, 0}, {4, false, false, 7, 0, 22, 0}, {5, false, false, 7, 0, 22, 0}, {6, false, false, 8, 0, 14, 0}}

// TestBusinessSeconds: analytics.business_seconds (and the merge's inlined form, and the
// day-by-day form) equal hand-computed values and the Go oracle on the edge cases of opening
// hours: across midnight, weekends, closed all day, open all day, a 23:59 close, a close before
// the open, a missing weekday, another timezone than the tenant's, and DST changes in a zone that
// had them (São Paulo until 2019: the clock jumped from 00:00 to 01:00 on 2018-11-04 and went
// back from 00:00 to 23:00 on 2019-02-17).
func TestBusinessSeconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := pgtest.New(t)
	db := pgtest.Conn(t, env.SuperURL)
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05-07", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	allDay := []wh{}
	for d := 0; d < 7; d++ {
		allDay = append(allDay, wh{d, false, true, -1, -1, -1, -1})
	}
	midnight := []wh{}
	for d := 0; d < 7; d++ {
		midnight = append(midnight, wh{d, false, false, 0, 0, 23, 59})
	}
	odd := []wh{{1, false, false, 9, 0, 23, 59}, {2, false, false, 18, 0, 9, 0}, {4, false, false, 10, 30, 12, 15}, {5, false, false, 9, 0, 9, 0}}
	cases := []struct {
		name  string
		tz    string
		hours []wh // nil: working hours disabled
		a, b  string
		want  float64
	}{
		{"across midnight, 23:00 to 07:30", "America/Sao_Paulo", gym, "2024-03-05 23:00:00-03", "2024-03-06 07:30:00-03", 1800},
		{"night only", "America/Sao_Paulo", gym, "2024-03-05 22:00:00-03", "2024-03-06 07:00:00-03", 0},
		{"weekend, Friday 21:00 to Monday 08:00", "America/Sao_Paulo", gym, "2024-03-08 21:00:00-03", "2024-03-11 08:00:00-03", 3600 + 6*3600 + 3600},
		{"closed all day (Sunday)", "America/Sao_Paulo", gym, "2024-03-10 00:00:00-03", "2024-03-11 00:00:00-03", 0},
		{"fractional seconds kept", "America/Sao_Paulo", gym, "2024-03-05 10:00:00-03", "2024-03-05 10:03:00-03", 180},
		{"open all day", "America/Sao_Paulo", allDay, "2024-03-05 10:00:00-03", "2024-03-07 10:00:00-03", 2 * 86400},
		{"23:59 closes at midnight", "America/Sao_Paulo", midnight, "2024-03-05 23:00:00-03", "2024-03-06 00:30:00-03", 5400},
		{"close before the open, missing weekday", "America/Sao_Paulo", odd, "2024-03-05 00:00:00-03", "2024-03-08 00:00:00-03", 3600 + 45*60},
		{"a close equal to the open", "America/Sao_Paulo", odd, "2024-03-08 00:00:00-03", "2024-03-09 00:00:00-03", 0},
		{"Monday 9:00 to 23:59", "America/Sao_Paulo", odd, "2024-03-04 00:00:00-03", "2024-03-05 00:00:00-03", 15 * 3600},
		{"another timezone (New York, EST)", "America/New_York", gym, "2024-03-05 21:00:00-03", "2024-03-06 10:00:00-03", 3*3600 + 3600},
		{"working hours disabled", "America/Sao_Paulo", nil, "2024-03-05 23:00:00-03", "2024-03-06 07:30:00-03", 8.5 * 3600},
		{"b before a", "America/Sao_Paulo", gym, "2024-03-06 07:30:00-03", "2024-03-05 23:00:00-03", 0},
		{"DST gap, open all day", "America/Sao_Paulo", allDay, "2018-11-03 12:00:00-03", "2018-11-05 12:00:00-02", 47 * 3600},
		{"DST gap, open from 00:00 (which is 01:00)", "America/Sao_Paulo", midnight, "2018-11-03 23:30:00-03", "2018-11-04 01:30:00-02", 3600},
		{"DST end, open all day (25-hour Saturday)", "America/Sao_Paulo", allDay, "2019-02-16 00:00:00-02", "2019-02-17 00:00:00-03", 25 * 3600},
		{"DST end, gym hours across the change", "America/Sao_Paulo", gym, "2019-02-15 21:00:00-02", "2019-02-18 08:00:00-03", 3600 + 6*3600 + 3600},
		{"long span, 40 days", "America/Sao_Paulo", gym, "2024-01-01 10:00:00-03", "2024-02-10 10:00:00-03", 0}, // want from the oracle
		{"long span across two DST changes", "America/Sao_Paulo", allDay, "2018-10-01 10:00:00-03", "2019-03-10 10:00:00-03", 13824000},
	}
	for i, c := range cases {
		a, b := at(c.a), at(c.b)
		var week []int32
		var rows []oracle.WorkingHour
		if c.hours != nil {
			var days, oh, om, ch, cm []int32
			var closed, openAll []bool
			for k, w := range c.hours {
				days, closed, openAll = append(days, int32(w.day)), append(closed, w.closed), append(openAll, w.openAll)
				oh, om, ch, cm = append(oh, int32(w.oh)), append(om, int32(w.om)), append(ch, int32(w.ch)), append(cm, int32(w.cm))
				rows = append(rows, w.oracle(int64(k+1)))
			}
			if err := db.QueryRow(ctx, "SELECT analytics.week_hours($1, $2, $3, $4, $5, $6, $7)", days, closed, openAll, oh, om, ch, cm).Scan(&week); err != nil {
				t.Fatal(err)
			}
		}
		var full, inline, byDay float64
		if err := db.QueryRow(ctx, `SELECT analytics.business_seconds($1, $2, $3, $4),
				analytics.business_seconds_at($1, $2, analytics.wall_us($1, $3), analytics.wall_us($2, $3), $3, $4),
				CASE WHEN $4::integer[] IS NULL OR $2 <= $1 THEN analytics.business_seconds($1, $2, $3, $4)
				     ELSE analytics.business_seconds_by_day($1, $2, $3, $4) END`, a, b, c.tz, week).Scan(&full, &inline, &byDay); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		loc, err := time.LoadLocation(c.tz)
		if err != nil {
			t.Fatal(err)
		}
		var h *oracle.Hours
		if c.hours != nil {
			h = oracle.NewHours(loc, rows)
		}
		fromOracle := h.Seconds(a, b)
		want := c.want
		if i == len(cases)-2 {
			want = fromOracle
		}
		for what, got := range map[string]float64{"business_seconds": full, "business_seconds_at": inline, "by day": byDay, "oracle": fromOracle} {
			if math.Abs(got-want) > 1e-6 {
				t.Errorf("%s: %s = %v, want %v", c.name, what, got, want)
			}
		}
	}
}

// TestBusinessAdd: analytics.business_add is the instant after which a wait exceeds its target
// (the next opening when the target is reached exactly at a closing time), and the oracle agrees.
func TestBusinessAdd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := pgtest.New(t)
	db := pgtest.Conn(t, env.SuperURL)
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	var rows []oracle.WorkingHour
	var days, oh, om, ch, cm []int32
	var closed, openAll []bool
	for k, w := range gym {
		days, closed, openAll = append(days, int32(w.day)), append(closed, w.closed), append(openAll, w.openAll)
		oh, om, ch, cm = append(oh, int32(w.oh)), append(om, int32(w.om)), append(ch, int32(w.ch)), append(cm, int32(w.cm))
		rows = append(rows, w.oracle(int64(k+1)))
	}
	var week []int32
	if err := db.QueryRow(ctx, "SELECT analytics.week_hours($1, $2, $3, $4, $5, $6, $7)", days, closed, openAll, oh, om, ch, cm).Scan(&week); err != nil {
		t.Fatal(err)
	}
	h := oracle.NewHours(sp, rows)
	local := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, sp)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct{ from, want string }{
		{"2024-03-05 10:00:00", "2024-03-05 10:05:00"}, // open: five minutes later
		{"2024-03-05 21:58:00", "2024-03-06 07:03:00"}, // two minutes before closing, three the next morning
		{"2024-03-05 21:55:00", "2024-03-06 07:00:00"}, // reached exactly at closing: the next opening
		{"2024-03-09 23:00:00", "2024-03-11 07:05:00"}, // Saturday night: Sunday is closed
		{"2024-03-10 12:00:00", "2024-03-11 07:05:00"}, // Sunday
	}
	for _, c := range cases {
		from := local(c.from)
		var got time.Time
		var open bool
		if err := db.QueryRow(ctx, "SELECT analytics.business_add($1, 300, 'America/Sao_Paulo', $2), analytics.is_open_at($1, 'America/Sao_Paulo', $2)",
			from, week).Scan(&got, &open); err != nil {
			t.Fatal(err)
		}
		want := local(c.want)
		if !got.Equal(want) {
			t.Errorf("from %s: due %s, want %s", c.from, got.In(sp), want)
		}
		if o := h.Due(from, 300); o == nil || !o.Equal(want) {
			t.Errorf("from %s: oracle due %v, want %s", c.from, o, want)
		}
		if open != h.IsOpen(from) {
			t.Errorf("from %s: is_open_at %v, oracle %v", c.from, open, h.IsOpen(from))
		}
		var after float64
		if err := db.QueryRow(ctx, "SELECT analytics.business_seconds($1::timestamptz, $2::timestamptz + interval '1 microsecond', 'America/Sao_Paulo', $3)", from, got, week).Scan(&after); err != nil {
			t.Fatal(err)
		}
		if after <= 300 {
			t.Errorf("from %s: a microsecond after the due instant the wait is %v s, not past 300", c.from, after)
		}
	}
	// An inbox that never opens has no due instant.
	var none *time.Time
	if err := db.QueryRow(ctx, "SELECT analytics.business_add(now(), 300, 'UTC', analytics.week_hours('{}', '{}', '{}', '{}', '{}', '{}', '{}'))").Scan(&none); err != nil || none != nil {
		t.Errorf("never open: %v, %v", none, err)
	}
}
