package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// buildBinary builds ./cmd/geniai into a temp dir (the code under test, freshly compiled); when
// no Go toolchain or module is at hand it falls back to a geniai binary beside the running
// executable (bin/geniai next to bin/geniai-bench), then on PATH.
func (r *run) buildBinary(ctx context.Context) (string, error) {
	if r.binary != "" {
		return r.binary, nil
	}
	dir, err := os.MkdirTemp("", "geniai-bench-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "geniai")
	if _, err := os.Stat(filepath.Join(r.repoDir(), "go.mod")); err == nil {
		if _, err := exec.LookPath("go"); err == nil {
			cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/geniai")
			cmd.Dir = r.repoDir()
			if b, err := cmd.CombinedOutput(); err != nil {
				return "", fmt.Errorf("go build: %v: %s", err, b)
			}
			r.binary = out
			return out, nil
		}
	}
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), "geniai")
		if st, err := os.Stat(beside); err == nil && !st.IsDir() {
			r.binary = beside
			return beside, nil
		}
	}
	path, err := exec.LookPath("geniai")
	if err != nil {
		return "", fmt.Errorf("no Go toolchain to build ./cmd/geniai and no geniai binary found: %w", err)
	}
	r.binary = path
	return path, nil
}

func (r *run) repoDir() string {
	if r.cfg.RepoDir != "" {
		return r.cfg.RepoDir
	}
	return "."
}

// childEnv is the environment of a geniai child: ours minus the database variables, plus env.
func childEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; ok {
			continue
		}
		out = append(out, kv)
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// child is a running geniai process.
type child struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	mu     sync.Mutex
	output strings.Builder // last part of stdout+stderr, for error messages
	hwmKB  int64           // VmHWM polled from /proc while it runs
}

func (r *run) startChild(ctx context.Context, env map[string]string, args ...string) (*child, error) {
	bin, err := r.buildBinary(ctx)
	if err != nil {
		return nil, err
	}
	return startBinary(bin, env, args...)
}

// startBinary starts the geniai binary at bin (another build, for a before/after comparison).
func startBinary(bin string, env map[string]string, args ...string) (*child, error) {
	c := &child{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	c.cmd.Env = childEnv(env)
	pr, pw := io.Pipe()
	c.cmd.Stdout, c.cmd.Stderr = pw, pw
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			if c.output.Len() > 32<<10 {
				s := c.output.String()
				c.output.Reset()
				c.output.WriteString(s[len(s)-16<<10:])
			}
			c.output.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
		}
	}()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.done:
				return
			case <-tick.C:
				if kb := vmHWM(c.cmd.Process.Pid); kb > 0 {
					c.mu.Lock()
					c.hwmKB = max(c.hwmKB, kb)
					c.mu.Unlock()
				}
			}
		}
	}()
	go func() {
		c.err = c.cmd.Wait()
		pw.Close()
		close(c.done)
	}()
	return c, nil
}

// wait waits for the child to exit and returns its peak RSS in MiB: the kernel's ru_maxrss
// (exact), or the polled VmHWM when rusage is unavailable.
func (c *child) wait() (peakMiB float64, err error) {
	<-c.done
	kb := int64(0)
	if ru, ok := c.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		kb = ru.Maxrss
	}
	c.mu.Lock()
	kb = max(kb, c.hwmKB)
	out := c.output.String()
	c.mu.Unlock()
	if c.err != nil {
		if len(out) > 2000 {
			out = out[len(out)-2000:]
		}
		return float64(kb) / 1024, fmt.Errorf("%v: %s", c.err, strings.TrimSpace(out))
	}
	return float64(kb) / 1024, nil
}

// stop sends SIGTERM and waits (SIGKILL after 20 s).
func (c *child) stop() (float64, error) {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
	}
	mib, err := c.wait()
	if ee, ok := err.(interface{ ExitCode() int }); ok && ee.ExitCode() == 0 {
		err = nil
	}
	if c.cmd.ProcessState != nil && c.cmd.ProcessState.Success() {
		err = nil
	}
	return mib, err
}

// vmHWM reads the peak resident set size (kB) of a live process.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
