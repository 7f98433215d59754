package bench

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// samples are latencies of one measurement.
type samples []time.Duration

// pct is the p-th percentile (0-100) by nearest rank, in milliseconds.
func (s samples) pct(p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	c := append(samples(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	rank := int(p/100*float64(len(c))+0.999999) - 1
	rank = min(max(rank, 0), len(c)-1)
	return float64(c[rank]) / float64(time.Millisecond)
}

// measure runs fn warm times unmeasured, then n times measured; the first error stops it.
func measure(warm, n int, fn func() error) (samples, error) {
	for i := 0; i < warm; i++ {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	out := make(samples, 0, n)
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := fn(); err != nil {
			return out, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// machine describes the host: CPU model, cores, RAM; PostgreSQL's version is filled by the caller.
func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH, CPU: "unknown CPU"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.Join(strings.Fields(v), " ")
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) >= 2 && fs[0] == "MemTotal:" {
				if kb, err := strconv.ParseFloat(fs[1], 64); err == nil {
					m.RAM = fmt.Sprintf("%.1f GiB", kb/(1<<20))
				}
				break
			}
		}
		f.Close()
	}
	return m
}

// loadAvg is the 1, 5 and 15 minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// load1 is the 1-minute load average alone ("" when unknown).
func load1() string {
	f := strings.Fields(loadAvg())
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// busy reports whether the 1-minute load in la exceeds cores.
func busy(la string, cores int) bool {
	f := strings.Fields(la)
	if len(f) == 0 {
		return false
	}
	x, err := strconv.ParseFloat(f[0], 64)
	return err == nil && x > float64(cores)
}

// peakHeap runs fn and returns the largest Go heap (live and not yet collected objects) seen
// while it ran, sampled every 2 ms, less the heap before it started.
func peakHeap(fn func() error) (int64, error) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() int64 { metrics.Read(sample); return int64(sample[0].Value.Uint64()) }
	base := read()
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if h := read(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err := fn()
	close(stop)
	<-done
	return max(peak.Load()-base, 0), err
}

// peakRSS runs fn and returns the process's peak resident memory in MiB while it ran (the
// kernel's VmHWM, reset first), or 0 where /proc does not allow the reset.
func peakRSS(fn func() error) (float64, error) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0, fn()
	}
	if err := fn(); err != nil {
		return 0, err
	}
	return float64(vmHWM(os.Getpid())) / 1024, nil
}
