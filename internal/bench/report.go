package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Row is one figure of the report, printed beside its target.
type Row struct {
	Section string   `json:"section"`
	Metric  string   `json:"metric"`
	Value   *float64 `json:"value,omitempty"` // nil when the figure could not be measured
	Unit    string   `json:"unit"`
	Target  string   `json:"target,omitempty"` // e.g. "≤ 50 ms"; "" when none was stated
	Pass    *bool    `json:"pass,omitempty"`   // nil without a target
	Note    string   `json:"note,omitempty"`
	Load    string   `json:"load,omitempty"` // 1-minute load average when the figure was taken
}

// Report is one bench run.
type Report struct {
	Started  time.Time      `json:"started"`
	Duration float64        `json:"duration_seconds"`
	Scale    string         `json:"scale"`
	Machine  Machine        `json:"machine"`
	Params   map[string]any `json:"params"`
	Rows     []Row          `json:"rows"`
	Logs     []string       `json:"logs,omitempty"` // verbatim LOAD: lines of the isolation test
	Errors   []string       `json:"errors,omitempty"`
}

// Machine is what the numbers ran on.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	RAM        string `json:"ram"`
	PostgreSQL string `json:"postgresql"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	LoadStart  string `json:"load_average_start"` // /proc/loadavg: other work on the machine skews every figure
	LoadEnd    string `json:"load_average_end"`
}

// target describes a threshold: at most (le) or at least (!le) limit.
type target struct {
	le    bool
	limit float64
}

func atMost(x float64) *target  { return &target{le: true, limit: x} }
func atLeast(x float64) *target { return &target{le: false, limit: x} }

// add appends a measured figure, judged against t when t is not nil.
func (r *Report) add(section, metric string, v float64, unit string, t *target, note string) {
	row := Row{Section: section, Metric: metric, Value: &v, Unit: unit, Note: note, Load: load1()}
	if t != nil {
		ok := v <= t.limit
		sym := "≤"
		if !t.le {
			ok = v >= t.limit
			sym = "≥"
		}
		row.Pass = &ok
		row.Target = sym + " " + format(t.limit) + " " + unit
	}
	r.Rows = append(r.Rows, row)
}

// addCheck appends a pass/fail outcome (fuzzing, the isolation test).
func (r *Report) addCheck(section, metric string, ok bool, note string) {
	row := Row{Section: section, Metric: metric, Pass: &ok, Target: "pass", Note: note, Load: load1()}
	r.Rows = append(r.Rows, row)
}

// addMissing records a figure that could not be measured and why.
func (r *Report) addMissing(section, metric, unit, target, why string) {
	f := false
	row := Row{Section: section, Metric: metric, Unit: unit, Target: target, Note: why, Load: load1()}
	if target != "" {
		row.Pass = &f
	}
	r.Rows = append(r.Rows, row)
	r.Errors = append(r.Errors, section+" / "+metric+": "+why)
}

// format renders a value with a precision that suits its size.
func format(v float64) string {
	a := v
	if a < 0 {
		a = -a
	}
	switch {
	case v == float64(int64(v)) && a < 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 1000:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

// Markdown renders the report as one markdown document: a header and the table.
func (r *Report) Markdown() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### Benchmark (scale %s) — %s\n\n", r.Scale, r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s RAM, %s, %s, %s. Whole run: %.0f s.\n\n",
		r.Machine.CPU, r.Machine.Cores, r.Machine.RAM, r.Machine.PostgreSQL, r.Machine.Go, r.Machine.OS, r.Duration)
	if r.Machine.LoadStart != "" {
		fmt.Fprintf(&b, "Load average (1/5/15 min) at start %s, at end %s", r.Machine.LoadStart, r.Machine.LoadEnd)
		if busy(r.Machine.LoadStart, r.Machine.Cores) || busy(r.Machine.LoadEnd, r.Machine.Cores) {
			b.WriteString(" — above the core count: other work shared the machine, so the figures are pessimistic")
		}
		b.WriteString(". The load column is the 1-minute load average when each figure was taken.\n\n")
	}
	if s, ok := r.Params["summary"].(string); ok && s != "" {
		fmt.Fprintf(&b, "%s\n\n", s)
	}
	b.WriteString("| area | figure | value | target | | load | notes |\n|---|---|---:|---|:-:|---:|---|\n")
	for _, row := range r.Rows {
		val := "—"
		if row.Value != nil {
			val = format(*row.Value)
			if row.Unit != "" {
				val += " " + row.Unit
			}
		}
		tgt := row.Target
		if tgt == "" {
			tgt = "none stated"
		}
		mark := ""
		if row.Pass != nil {
			mark = "❌"
			if *row.Pass {
				mark = "✅"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", cell(row.Section), cell(row.Metric), val, cell(tgt), mark, row.Load, cell(row.Note))
	}
	if len(r.Logs) > 0 {
		b.WriteString("\nIsolation-under-load log lines (verbatim):\n\n```\n")
		for _, l := range r.Logs {
			b.WriteString(l + "\n")
		}
		b.WriteString("```\n")
	}
	if len(r.Errors) > 0 {
		b.WriteString("\nProblems during the run:\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- %s\n", cell(e))
		}
	}
	return b.String()
}

// Write saves the report as <stamp>.md/.json and latest.md/.json under dir; it returns the
// markdown path.
func (r *Report) Write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	md := []byte(r.Markdown())
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	js = append(js, '\n')
	stamp := r.Started.UTC().Format("20060102T150405Z")
	files := map[string][]byte{stamp + ".md": md, stamp + ".json": js, "latest.md": md, "latest.json": js}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, stamp+".md"), nil
}
