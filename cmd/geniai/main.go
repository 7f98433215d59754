// Command geniai is the one binary of GeniAI Analytics: the web server, migrations, the ETL and
// the admin commands. Run `geniai help` for the list. Each command group lives in the file named
// after it (tenant.go holds every `geniai tenant` subcommand) and registers itself in init.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/config"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
	"github.com/geniai/analytics/internal/tenantadmin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

// env is what every command gets: configuration and the standard streams.
type env struct {
	cfg    config.Config
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is filled by each command file's init, so commands live beside their code.
var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, e *env, args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// errUsage marks bad command-line use; its message has already been printed.
var errUsage = apperr.New(apperr.Invalid, "err.cli.usage")

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return apperr.New(apperr.Invalid, "err.cli.unknown_command", args[0])
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return apperr.Wrap(err, apperr.Invalid, "err.cli.config", err)
	}
	return cmd.run(ctx, &env{cfg: cfg, getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "uso: geniai <comando> [opções]   (geniai <comando> -h para as opções)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
}

// exitCode prints err as one line and returns 0 (ok), 2 (bad input: nothing was written) or 1.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != errUsage {
		msg := apperr.Message(err, locale.PT) // the command line speaks pt-BR
		if apperr.CodeOf(err) == apperr.Internal {
			msg = err.Error()
		}
		fmt.Fprintln(stderr, "geniai: "+strings.TrimSpace(msg))
	}
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.Conflict, apperr.NotFound, apperr.Forbidden:
		return 2
	}
	return 1
}

// flags returns a FlagSet for a subcommand whose errors are reported, not fatal.
func flags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("geniai "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {} // a bad flag is one line on stderr; -h prints the options (parse)
	return fs
}

// parse parses args and turns flag errors into usage errors (exit 2).
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(fs.Output(), "uso de %s:\n", fs.Name())
			fs.PrintDefaults()
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "argumento inesperado: %s\n", fs.Arg(0))
		return errUsage
	}
	return nil
}

// groupUsage answers a command group called without a subcommand (usage on stderr, exit 2) or
// with -h, --help or help (usage on stdout, exit 0); it returns nil when args name a subcommand.
func groupUsage(e *env, args []string, usage string) error {
	if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
		return nil
	}
	usage += "(geniai <comando> <subcomando> -h para as opções)\n"
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return errUsage
	}
	fmt.Fprint(e.stdout, usage)
	return flag.ErrHelp
}

func need(name, value string) error {
	if strings.TrimSpace(value) == "" {
		return apperr.New(apperr.Invalid, "err.cli.missing_env", name)
	}
	return nil
}

// set reports whether a flag was given on the command line (to keep current values otherwise).
func set(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// done prints the success line of a command that changed something.
func done(e *env, err error, format string, args ...any) error {
	if err == nil {
		fmt.Fprintf(e.stdout, format+"\n", args...)
	}
	return err
}

func optText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// cli is the principal of the admin commands: staff, so Row-Level Security and the audit trail
// apply to scripts as they do to the web panel.
var cli = pg.System("cli")

// services are what the admin commands call: the same staff and tenant operations as the web
// panel, over one small authenticator pool.
type services struct {
	db     *pg.DB
	staff  *staff.Service
	tenant *tenantadmin.Service
}

// openServices opens the authenticator pool for an admin command; the caller closes it.
func openServices(ctx context.Context, e *env) (*services, func(), error) {
	if err := need("DATABASE_URL", e.cfg.DatabaseURL); err != nil {
		return nil, nil, err
	}
	db, err := pg.Open(ctx, e.cfg.DatabaseURL, pg.Options{MaxConns: 2, StatementTimeout: e.cfg.StatementTimeout})
	if err != nil {
		return nil, nil, err
	}
	svc := &services{
		db:     db,
		staff:  &staff.Service{DB: db, BcryptCost: e.cfg.BcryptCost},
		tenant: &tenantadmin.Service{DB: db, BcryptCost: e.cfg.BcryptCost},
	}
	return svc, db.Close, nil
}

// seconds writes a duration for the Portuguese console output: "1,6 s", with the decimal comma.
func seconds(d time.Duration) string {
	return strings.Replace(strconv.FormatFloat(d.Seconds(), 'f', 1, 64), ".", ",", 1) + " s"
}
