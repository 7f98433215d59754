package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// goTest runs `go test args...` in the module root with the test database variables set, and
// returns its combined output.
func (r *run) goTest(ctx context.Context, extraEnv map[string]string, args ...string) (string, error) {
	_, pw, err := userOf(r.cfg.DatabaseURL)
	if err != nil {
		return "", err
	}
	env := map[string]string{"TEST_DATABASE_URL": r.cfg.SuperURL, "TEST_ROLE_PASSWORD": pw}
	for k, v := range extraEnv {
		env[k] = v
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"test"}, args...)...)
	cmd.Dir = r.repoDir()
	cmd.Env = childEnv(env)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	return out.String(), err
}

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)

type fuzzTarget struct{ pkg, name string }

// fuzzTargets finds every Go fuzz target of the module (like grep -rn "func Fuzz" --include=*_test.go).
func (r *run) fuzzTargets() ([]fuzzTarget, error) {
	var out []fuzzTarget
	root := r.repoDir()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, m := range fuzzFunc.FindAllSubmatch(b, -1) {
			out = append(out, fuzzTarget{pkg: "./" + filepath.ToSlash(rel), name: string(m[1])})
		}
		return nil
	})
	return out, err
}

// fuzzPhase runs each fuzz target for the scale's fixed time and reports pass/fail.
func (r *run) fuzzPhase(ctx context.Context) error {
	targets, err := r.fuzzTargets()
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		r.rep.addMissing("fuzzing", "fuzz targets", "", "pass", "no func Fuzz* found")
		return nil
	}
	ft := r.cfg.Scale.FuzzTime
	for _, t := range targets {
		r.cfg.logf("fuzzing %s %s for %s", t.pkg, t.name, ft)
		corpus := filepath.Join(r.repoDir(), t.pkg, "testdata", "fuzz", t.name)
		before := listDir(corpus)
		t0 := time.Now()
		out, err := r.goTest(ctx, nil, "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", ft.String(), t.pkg)
		// A failing input lands in the package's testdata; the bench does not leave files in the
		// source tree: new ones move to <CrashDir>/<target>/ and the note names them.
		for name := range listDir(corpus) {
			if before[name] {
				continue
			}
			dst := filepath.Join(r.cfg.CrashDir, t.name)
			if os.MkdirAll(dst, 0o755) == nil && os.Rename(filepath.Join(corpus, name), filepath.Join(dst, name)) == nil {
				out += "\nfailing input saved as " + filepath.Join(dst, name)
			}
		}
		if len(before) == 0 {
			_ = os.Remove(corpus) // only if empty: the directories the run created
			_ = os.Remove(filepath.Dir(corpus))
			_ = os.Remove(filepath.Dir(filepath.Dir(corpus)))
		}
		note := fmt.Sprintf("%s in %s for %s (%.0f s with build)", t.name, t.pkg, ft, time.Since(t0).Seconds())
		if m := regexp.MustCompile(`execs: (\d+)`).FindAllStringSubmatch(out, -1); len(m) > 0 {
			n, _ := strconv.Atoi(m[len(m)-1][1])
			note += fmt.Sprintf(", %s execs", format(float64(n)))
		}
		if err != nil {
			note += ": " + lastLines(out, 6)
		}
		r.rep.addCheck("fuzzing", t.name, err == nil, note)
	}
	return nil
}

// isolationPhase runs TestIsolationUnderLoad (internal/web/load_test.go) at the scale's request
// count and reports its outcome and its LOAD: lines verbatim.
func (r *run) isolationPhase(ctx context.Context) error {
	n := r.cfg.Scale.LoadRequests
	r.cfg.logf("isolation under load: LOAD_REQUESTS=%d go test -run TestIsolationUnderLoad ./internal/web/", n)
	t0 := time.Now()
	out, err := r.goTest(ctx, map[string]string{"LOAD_REQUESTS": strconv.Itoa(n)},
		"-run", "^TestIsolationUnderLoad$", "-count=1", "-v", "-timeout", "60m", "./internal/web/")
	var logs []string
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	ran := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "=== RUN   TestIsolationUnderLoad") {
			ran = true
		}
		// t.Log prefixes "file.go:NN: "; fmt.Println does not.
		if i := strings.Index(line, "LOAD:"); i >= 0 && (i == 0 || regexp.MustCompile(`^\S+\.go:\d+: $`).MatchString(line[:i])) {
			logs = append(logs, line[i:])
		}
	}
	r.rep.Logs = append(r.rep.Logs, logs...)
	note := fmt.Sprintf("LOAD_REQUESTS=%d, %.0f s", n, time.Since(t0).Seconds())
	switch {
	case !ran && err == nil:
		r.rep.addMissing("isolation", "TestIsolationUnderLoad", "", "pass", "test not found in ./internal/web (no tests to run)")
	default:
		if len(logs) > 0 {
			note += fmt.Sprintf("; %d LOAD: lines below", len(logs))
		}
		if err != nil {
			note += ": " + lastLines(out, 8)
		}
		r.rep.addCheck("isolation", "TestIsolationUnderLoad (no foreign marker, no 5xx)", err == nil, note)
	}
	return nil
}

func listDir(dir string) map[string]bool {
	out := map[string]bool{}
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		out[e.Name()] = true
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " ⏎ ")
}
