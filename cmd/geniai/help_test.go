package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestHelpMatchesREADME runs `-h` on every command and subcommand README's command list names,
// with an empty environment (help needs no database), and requires every flag the README shows
// for it to exist. Command groups answer -h with their subcommands, and without a subcommand
// print the same on stderr and exit 2.
func TestHelpMatchesREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := strings.SplitN(string(readme), "## The `geniai` binary", 2)[1]
	block = strings.SplitN(strings.SplitN(block, "```\n", 2)[1], "```", 2)[0]
	flagRe := regexp.MustCompile(`--([a-z][a-z-]*)`)
	checked := 0
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "geniai ") {
			continue
		}
		// "geniai tenant list | update --slug S [...]": each alternative is a command of its own.
		alts := topLevel(strings.SplitN(line, "  ", 2)[0])
		words := strings.Fields(alts[0])
		group := words[1]
		for i, alt := range alts {
			f := strings.Fields(alt)
			if i == 0 {
				f = f[2:]
			}
			subs := []string{""}
			if len(f) > 0 && !strings.HasPrefix(f[0], "-") && !strings.HasPrefix(f[0], "[") {
				subs = strings.Split(f[0], "|")
			}
			for _, sub := range subs {
				args := []string{group}
				if sub != "" {
					args = append(args, sub)
				}
				var out, errb bytes.Buffer
				err := run(context.Background(), append(args, "-h"), func(string) string { return "" }, strings.NewReader(""), &out, &errb)
				help := out.String() + errb.String()
				if !errors.Is(err, flag.ErrHelp) {
					t.Errorf("geniai %s -h: %v (want the help, exit 0)\n%s", strings.Join(args, " "), err, help)
					continue
				}
				for _, m := range flagRe.FindAllStringSubmatch(alt, -1) {
					if !strings.Contains(help, "  -"+m[1]+"\n") && !strings.Contains(help, "  -"+m[1]+" ") {
						t.Errorf("README shows geniai %s --%s, which its help does not list:\n%s", strings.Join(args, " "), m[1], help)
					}
				}
				checked++
			}
		}
	}
	if checked < 25 {
		t.Fatalf("checked only %d commands from README: has the command list's layout changed?", checked)
	}

	for _, group := range []string{"tenant", "user", "etl", "demo", "db"} {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{group}, func(string) string { return "" }, strings.NewReader(""), &out, &errb)
		if exitCode(err, &errb) != 2 || !strings.HasPrefix(errb.String(), "uso: geniai "+group) {
			t.Errorf("geniai %s without a subcommand: exit %d, stderr %q", group, exitCode(err, &errb), errb.String())
		}
	}
}

// topLevel splits a usage line at the " | " outside brackets.
func topLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '[':
			depth++
		case s[i] == ']':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], " | "):
			parts = append(parts, s[start:i])
			start = i + 3
		}
	}
	return append(parts, s[start:])
}
