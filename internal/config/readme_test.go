package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestREADMEListsEveryVariable keeps README's configuration table and the code in step: every
// variable FromEnv or any other Go code reads is in the table, and every variable in the table is
// read somewhere. A variable documented but never read (a setting an operator sets in vain) fails
// as surely as one read but undocumented.
// notConfiguration are variables the code reads that nobody sets: the system's PATH, and the
// marker with which a test runs its own binary as the CLI.
var notConfiguration = map[string]bool{"PATH": true, "GENIAI_TEST_AS_CLI": true}

func TestREADMEListsEveryVariable(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	section := strings.SplitN(strings.SplitN(string(readme), "\n## Configuration\n", 2)[1], "\n## ", 2)[0]
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(line[1:], "|", 2)[0]
		for _, m := range name.FindAllStringSubmatch(first, -1) {
			documented[m[1]] = true
		}
	}
	if len(documented) < 20 {
		t.Fatalf("found only %d variables in README's configuration table: has its layout changed?", len(documented))
	}

	read := map[string]string{} // variable → where it is read
	if _, err := FromEnv(func(k string) string { read[k] = "internal/config"; return "" }); err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`(?:Getenv|getenv|LookupEnv)\("([A-Z][A-Z0-9_]*)"\)`)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			if !notConfiguration[m[1]] {
				read[m[1]] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for v, where := range read {
		if !documented[v] {
			problems = append(problems, v+" is read ("+where+") but missing from README's configuration table")
		}
	}
	for v := range documented {
		if read[v] == "" {
			problems = append(problems, v+" is in README's configuration table but no code reads it")
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
}
