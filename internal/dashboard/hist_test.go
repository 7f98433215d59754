package dashboard

import (
	"context"
	"reflect"
	"testing"

	"github.com/geniai/analytics/internal/pgtest"
)

// TestSentInts reads arrays as PostgreSQL's array_send writes them, and refuses what it cannot
// be sure of (nulls, two dimensions, another width, truncation).
func TestSentInts(t *testing.T) {
	t.Parallel()
	env := pgtest.New(t)
	c := pgtest.Conn(t, env.SuperURL)
	ctx := context.Background()
	for _, tc := range []struct {
		sql   string
		width int
		want  []int64
	}{
		{`SELECT array_send('{0,1,399,-7,32767}'::smallint[])`, 2, []int64{0, 1, 399, -7, 32767}},
		{`SELECT array_send('{5,2147483647,-2147483648}'::integer[])`, 4, []int64{5, 2147483647, -2147483648}},
		{`SELECT array_send('{}'::smallint[])`, 2, nil},
		{`SELECT array_send('[3:4]={8,9}'::integer[])`, 4, []int64{8, 9}},
	} {
		var b []byte
		if err := c.QueryRow(ctx, tc.sql).Scan(&b); err != nil {
			t.Fatal(err)
		}
		got, err := sentInts(b, tc.width, nil)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.sql, got, err, tc.want)
		}
		if len(b) > 20 {
			if _, err := sentInts(b[:len(b)-1], tc.width, nil); err == nil {
				t.Errorf("%s: truncated array accepted", tc.sql)
			}
			if _, err := sentInts(b, 6-tc.width, nil); err == nil {
				t.Errorf("%s: read with the wrong width", tc.sql)
			}
		}
	}
	for _, sql := range []string{`SELECT array_send('{1,NULL}'::integer[])`, `SELECT array_send('{{1,2},{3,4}}'::integer[])`} {
		var b []byte
		if err := c.QueryRow(ctx, sql).Scan(&b); err != nil {
			t.Fatal(err)
		}
		if got, err := sentInts(b, 4, nil); err == nil {
			t.Errorf("%s: read as %v", sql, got)
		}
	}
	if _, err := sentInts([]byte{0, 0}, 2, nil); err == nil {
		t.Error("two bytes read as an array")
	}
}
