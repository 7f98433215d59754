// Package metrics is the server's Prometheus instrumentation (docs/operations.md lists every
// series): request latency and status by route pattern, the database pools, ETL runs, each
// tenant's sync lag and the outgoing queues. Everything is registered on the Registry of one
// Metrics value, never on the library's global registry, so tests and several servers in one
// process do not share counters.
//
// /metrics is never public by default: it is served on its own listener (METRICS_ADDR) or, on the
// main listener, only with the bearer token METRICS_TOKEN (Handler).
package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "geniai"

// Metrics holds every series of one server process.
type Metrics struct {
	Registry *prometheus.Registry

	reqDuration *prometheus.HistogramVec
	requests    *prometheus.CounterVec
	inFlight    prometheus.Gauge
	etlDuration *prometheus.HistogramVec
	etlRows     *prometheus.CounterVec
	etlRuns     *prometheus.CounterVec
	webhooks    *prometheus.CounterVec
	cache       *prometheus.CounterVec
	pageCache   *prometheus.CounterVec

	mu      sync.Mutex
	pools   map[string]*pgxpool.Pool
	sources []*source
}

// New registers the process and Go runtime collectors and every series of this package.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), pools: map[string]*pgxpool.Pool{}}
	m.reqDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by route pattern and method (until the handler returns).",
		// 2.5 ms to 10 s: the dashboard target is 100 ms at p95.
		Buckets: []float64{.0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "http_requests_in_flight", Help: "HTTP requests being answered now.",
	})
	m.etlDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "etl_run_duration_seconds",
		Help:    "Duration of one tenant's sync, by outcome (ok, unchanged, failed, skipped).",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	}, []string{"outcome"})
	m.etlRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "etl_runs_total", Help: "Tenant syncs, by outcome.",
	}, []string{"outcome"})
	m.etlRows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "etl_rows_total",
		Help: "Conversations a sync read from Chatwoot, upserted or deleted, by outcome of the run (a failed run's rows were rolled back).",
	}, []string{"outcome", "kind"})
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "webhook_events_total",
		Help: "Chatwoot webhook deliveries, by event and result (queued, ignored, unknown_inbox, malformed, unauthorized).",
	}, []string{"event", "result"})
	m.cache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "dashboard_cache_total",
		Help: "Dashboard results served from the cache (hit) or computed (miss).",
	}, []string{"result"})
	m.pageCache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "page_cache_total",
		Help: "Rendered dashboard and list pages served from the page cache (hit) or rendered (miss).",
	}, []string{"result"})
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.reqDuration, m.requests, m.inFlight, m.etlDuration, m.etlRuns, m.etlRows, m.webhooks, m.cache, m.pageCache,
		poolCollector{m},
		sourceCollector{m},
	)
	return m
}

// Handler serves the registry in Prometheus's text format. A non-empty token is required as
// `Authorization: Bearer <token>` (compared in constant time); without one, answer only on a
// listener of its own.
func (m *Metrics) Handler(token string, log *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorLog: slogPrinter{log}, Timeout: 10 * time.Second})
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte("Bearer " + token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	if p.log != nil {
		p.log.Warn("metrics", "error", v)
	}
}

// Instrument records every request mux answers by the pattern it matched (Go's ServeMux sets
// r.Pattern on the request it is given, so Instrument must wrap the mux itself). Requests no
// pattern matched count under "unmatched", so a scan of random URLs adds no series; nor does a
// made-up method, counted as "other".
func (m *Metrics) Instrument(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		m.inFlight.Inc()
		defer func() {
			m.inFlight.Dec()
			code := rec.status
			if code == 0 {
				code = http.StatusOK
			}
			if p := recover(); p != nil {
				code = http.StatusInternalServerError
				defer panic(p)
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			method := methodLabel(r.Method)
			m.reqDuration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
			m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
		}()
		mux.ServeHTTP(rec, r)
	})
}

// methodLabel is the request's method when it is a standard one, else "other": the method is
// the client's to choose, and a catch-all route answers any.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// statusRecorder remembers the status code; Unwrap lets http.ResponseController reach the
// connection (flushes of streamed exports, deadlines).
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ETLRun records one tenant's sync: its outcome (ok, unchanged, failed, skipped), duration and
// the conversations it read, upserted and deleted.
func (m *Metrics) ETLRun(outcome string, d time.Duration, read, upserted, deleted int64) {
	if m == nil {
		return
	}
	m.etlRuns.WithLabelValues(outcome).Inc()
	m.etlDuration.WithLabelValues(outcome).Observe(d.Seconds())
	m.etlRows.WithLabelValues(outcome, "read").Add(float64(read))
	m.etlRows.WithLabelValues(outcome, "upserted").Add(float64(upserted))
	m.etlRows.WithLabelValues(outcome, "deleted").Add(float64(deleted))
}

// Webhook counts one Chatwoot webhook delivery.
func (m *Metrics) Webhook(event, result string) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(event, result).Inc()
}

// Cache counts a dashboard cache lookup.
func (m *Metrics) Cache(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.cache.WithLabelValues("hit").Inc()
	} else {
		m.cache.WithLabelValues("miss").Inc()
	}
}

// AddPool exports pool's statistics under pool="name" (primary, replica, chatwoot).
func (m *Metrics) AddPool(name string, pool *pgxpool.Pool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pools[name] = pool
}

var (
	poolTotal    = prometheus.NewDesc(namespace+"_db_pool_connections", "Connections of the pool, by state (idle, acquired, constructing).", []string{"pool", "state"}, nil)
	poolMax      = prometheus.NewDesc(namespace+"_db_pool_max_connections", "Maximum size of the pool.", []string{"pool"}, nil)
	poolAcquires = prometheus.NewDesc(namespace+"_db_pool_acquires_total", "Connections acquired from the pool.", []string{"pool"}, nil)
	poolWaits    = prometheus.NewDesc(namespace+"_db_pool_empty_acquires_total", "Acquires that had to wait because the pool was empty.", []string{"pool"}, nil)
	poolWaitSecs = prometheus.NewDesc(namespace+"_db_pool_acquire_wait_seconds_total", "Time spent acquiring connections.", []string{"pool"}, nil)
	poolCanceled = prometheus.NewDesc(namespace+"_db_pool_canceled_acquires_total", "Acquires canceled by their context.", []string{"pool"}, nil)
	poolNew      = prometheus.NewDesc(namespace+"_db_pool_new_connections_total", "Connections opened.", []string{"pool"}, nil)
)

type poolCollector struct{ m *Metrics }

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolTotal, poolMax, poolAcquires, poolWaits, poolWaitSecs, poolCanceled, poolNew} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	for name, p := range c.m.pools {
		s := p.Stat()
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.IdleConns()), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.AcquiredConns()), name, "acquired")
		ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.ConstructingConns()), name, "constructing")
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaitSecs, prometheus.CounterValue, s.AcquireDuration().Seconds(), name)
		ch <- prometheus.MustNewConstMetric(poolCanceled, prometheus.CounterValue, float64(s.CanceledAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolNew, prometheus.CounterValue, float64(s.NewConnsCount()), name)
	}
}

// Sample is one value of a gauge read from the database, with its label values.
type Sample struct {
	Labels []string
	Value  float64
}

// source is a gauge whose samples are read at scrape time (per-tenant sync lag, queue depths),
// at most once per interval: a scraper hammering /metrics costs the database one query per
// interval.
type source struct {
	desc     *prometheus.Desc
	read     func(ctx context.Context) ([]Sample, error)
	interval time.Duration

	mu      sync.Mutex
	at      time.Time
	samples []Sample
	log     *slog.Logger
}

// PageCache counts a page cache lookup.
func (m *Metrics) PageCache(hit bool) {
	if m == nil {
		return
	}
	if hit {
		m.pageCache.WithLabelValues("hit").Inc()
	} else {
		m.pageCache.WithLabelValues("miss").Inc()
	}
}

// AddGauge exports a gauge read by read at scrape time (cached for interval), e.g. the sync
// lag of every tenant or the depth of a queue. A failed read keeps the previous samples and logs.
func (m *Metrics) AddGauge(name, help string, labels []string, interval time.Duration, log *slog.Logger, read func(ctx context.Context) ([]Sample, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources = append(m.sources, &source{
		desc: prometheus.NewDesc(namespace+"_"+name, help, labels, nil), read: read, interval: interval, log: log,
	})
}

type sourceCollector struct{ m *Metrics }

// Describe sends nothing: the gauges are added after registration (an unchecked collector).
func (c sourceCollector) Describe(chan<- *prometheus.Desc) {}

func (c sourceCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	sources := append([]*source(nil), c.m.sources...)
	c.m.mu.Unlock()
	for _, s := range sources {
		for _, smp := range s.get() {
			ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, smp.Value, smp.Labels...)
		}
	}
}

func (s *source) get() []Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.at) < s.interval && s.samples != nil {
		return s.samples
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	samples, err := s.read(ctx)
	if err != nil {
		if s.log != nil {
			s.log.Warn("metrics: reading a gauge failed", "gauge", s.desc.String(), "error", err)
		}
		return s.samples
	}
	s.samples, s.at = samples, time.Now()
	return samples
}
