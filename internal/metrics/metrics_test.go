package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestETLRunsAndGauges(t *testing.T) {
	t.Parallel()
	m := New()
	m.ETLRun("ok", 2*time.Second, 100, 90, 3)
	m.ETLRun("unchanged", 10*time.Millisecond, 0, 0, 0)
	reads := 0
	m.AddGauge("etl_sync_lag_seconds", "lag", []string{"tenant"}, time.Hour, nil, func(context.Context) ([]Sample, error) {
		reads++
		return []Sample{{Labels: []string{"acme"}, Value: 42}}, nil
	})
	want := `
# HELP geniai_etl_rows_total Conversations a sync read from Chatwoot, upserted or deleted, by outcome of the run (a failed run's rows were rolled back).
# TYPE geniai_etl_rows_total counter
geniai_etl_rows_total{kind="deleted",outcome="ok"} 3
geniai_etl_rows_total{kind="deleted",outcome="unchanged"} 0
geniai_etl_rows_total{kind="read",outcome="ok"} 100
geniai_etl_rows_total{kind="read",outcome="unchanged"} 0
geniai_etl_rows_total{kind="upserted",outcome="ok"} 90
geniai_etl_rows_total{kind="upserted",outcome="unchanged"} 0
# HELP geniai_etl_sync_lag_seconds lag
# TYPE geniai_etl_sync_lag_seconds gauge
geniai_etl_sync_lag_seconds{tenant="acme"} 42
`
	for i := 0; i < 3; i++ {
		if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "geniai_etl_rows_total", "geniai_etl_sync_lag_seconds"); err != nil {
			t.Fatal(err)
		}
	}
	if reads != 1 {
		t.Fatalf("the gauge was read %d times in one interval, want once", reads)
	}
}

func TestInstrumentCountsPanicsAs500(t *testing.T) {
	t.Parallel()
	m := New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom/{id}", func(http.ResponseWriter, *http.Request) { panic("boom") })
	h := m.Instrument(mux)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic was swallowed; the server's recoverer must still see it")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/boom/7", nil))
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	if n := testutil.ToFloat64(m.requests.WithLabelValues("GET /boom/{id}", "GET", "500")); n != 1 {
		t.Fatalf("panicking route counted %v times as 500", n)
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("unmatched", "GET", "404")); n != 1 {
		t.Fatalf("unmatched path counted %v times", n)
	}
}

// A client chooses the method: made-up ones must not each become a series.
func TestInstrumentBoundsMethods(t *testing.T) {
	t.Parallel()
	m := New()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotFound) })
	h := m.Instrument(mux)
	for _, method := range []string{"FOO1", "FOO2", "BAR", http.MethodDelete} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, "/x", nil))
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("/", "other", "404")); n != 3 {
		t.Errorf("made-up methods counted %v times as other, want 3", n)
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("/", "DELETE", "404")); n != 1 {
		t.Errorf("DELETE counted %v times, want 1", n)
	}
	if n := testutil.CollectAndCount(m.requests); n != 2 {
		t.Errorf("%d request series, want 2", n)
	}
}
