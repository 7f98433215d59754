package dashboard

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/locale"
)

var today = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)

func TestParseValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		q        string
		from, to string
		check    func(Filter) bool
	}{
		{"", "2026-10-31", "2026-11-29", nil},
		{"period=today", "2026-11-29", "2026-11-29", nil},
		{"period=7d", "2026-11-23", "2026-11-29", nil},
		{"period=365d", "2025-11-30", "2026-11-29", nil},
		{"from=2026-01-01&to=2026-01-31", "2026-01-01", "2026-01-31", nil},
		{"from=01/02/2026&to=28/02/2026", "2026-02-01", "2026-02-28", nil},
		{"inbox=2&inbox=1&inbox=2", "2026-10-31", "2026-11-29", func(f Filter) bool { return len(f.Inboxes) == 2 && f.Inboxes[0] == 1 }},
		{"status=resolved&stage=lead&flag=handoff&frt=6&dow=0&hour=23&csat=5", "2026-10-31", "2026-11-29", func(f Filter) bool {
			return f.Status == "resolved" && *f.FRT == 6 && *f.DOW == 0 && *f.Hour == 23 && *f.CSAT == 5
		}},
		{"q=%27%3B+DROP+TABLE+x%3B--&limit=200", "2026-10-31", "2026-11-29", func(f Filter) bool { return f.Search == "'; DROP TABLE x;--" && f.PageSize == 200 }},
	} {
		v, _ := url.ParseQuery(tc.q)
		f, err := Parse(v, today, 30, []int32{1, 2})
		if err != nil {
			t.Errorf("%q: %v", tc.q, err)
			continue
		}
		if got := f.From.Format(dateLayout) + ".." + f.To.Format(dateLayout); got != tc.from+".."+tc.to {
			t.Errorf("%q: period %s, want %s..%s", tc.q, got, tc.from, tc.to)
		}
		if tc.check != nil && !tc.check(f) {
			t.Errorf("%q: unexpected filter %+v", tc.q, f)
		}
		// The filter survives a round trip through its own URL.
		g, err := Parse(f.Query(), today, 30, []int32{1, 2})
		if err != nil || g.Query().Encode() != f.Query().Encode() {
			t.Errorf("%q: round trip %q -> %v %q", tc.q, f.Query().Encode(), err, g.Query().Encode())
		}
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ q, want string }{
		{"from=2026-13-01&to=2026-12-31", "Data inicial inválida"},
		{"from=2026-02-01&to=2026-01-01", "posterior"},
		{"from=2020-01-01&to=2026-01-01", "no máximo 2 anos"},
		{"from=2026-01-01", "datas inicial e final"},
		{"period=3d", "Período"},
		{"inbox=99", "Caixa de entrada desconhecida"},
		{"inbox=abc", "Caixa de entrada desconhecida"},
		{"limit=1000000", "Tamanho de página"},
		{"limit=0", "Tamanho de página"},
		{"status=closed", "Situação desconhecida"},
		{"stage=vip", "Etapa"},
		{"flag=x", "Filtro desconhecido"},
		{"hour=24", "Hora"},
		{"csat=0", "Nota"},
		{"channel=<script>", "Canal desconhecido"},
		{"after=garbage", "Posição de página"},
		{"q=" + strings.Repeat("a", 201), "no máximo 200"},
		{"period=7d&period=30d", "mais de uma vez"},
	} {
		v, _ := url.ParseQuery(tc.q)
		_, err := Parse(v, today, 30, []int32{1, 2})
		if !apperr.Is(err, apperr.Invalid) || !strings.Contains(apperr.Message(err, locale.PT), tc.want) {
			t.Errorf("%q: got %v, want an Invalid error mentioning %q", tc.q, err, tc.want)
		}
	}
}

func TestPrevious(t *testing.T) {
	t.Parallel()
	v, _ := url.ParseQuery("from=2026-03-01&to=2026-03-31")
	f, _ := Parse(v, today, 30, nil)
	p := f.Previous()
	if p.From.Format(dateLayout) != "2026-01-29" || p.To.Format(dateLayout) != "2026-02-28" || p.Days() != 31 {
		t.Fatalf("previous period %s, want 2026-01-29..2026-02-28", p)
	}
}

// FuzzParse: no input makes Parse panic, and every error is a 4xx-kind apperr with a message.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "period=7d", "from=2026-01-01&to=2026-01-02", "inbox=1&inbox=-1",
		"q=%00", "after=1_1", "after=9223372036854775807_2147483647", "limit=-1", "hour=%F0%9F%98%80",
		"from=31/12/9999&to=01/01/0001", "label=%FF%FE", "csat=5&frt=0&dow=6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		v, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		flt, err := Parse(v, today, 30, []int32{1, 2, 3})
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) || apperr.Message(err, locale.PT) == "" {
				t.Fatalf("%q: error %v is not a clear Invalid error", q, err)
			}
			return
		}
		if flt.From.After(flt.To) || flt.Days() > MaxRangeDays || flt.PageSize < 1 || flt.PageSize > MaxPageSize {
			t.Fatalf("%q: accepted an out-of-bounds filter %+v", q, flt)
		}
		if _, err := Parse(flt.Query(), today, 30, []int32{1, 2, 3}); err != nil {
			t.Fatalf("%q: own query %q does not parse: %v", q, flt.Query().Encode(), err)
		}
	})
}
