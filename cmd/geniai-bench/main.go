// Command geniai-bench is the benchmark of GeniAI Analytics, kept out of the product binary: it
// builds a Chatwoot source at a given scale on a cluster, loads it with the real `geniai` binary
// and measures the product end to end (package bench), writing bench/results/. `geniai-bench
// readme` copies the latest report into README.md's Numbers section. `make bench` and
// `make bench/readme` run it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/geniai/analytics/internal/bench"
	"github.com/geniai/analytics/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "geniai-bench: "+err.Error())
		os.Exit(1)
	}
}

// errUsage is bad command-line use; the flag package has printed why.
var errUsage = errors.New("uso incorreto")

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "readme" {
		return readme(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("geniai-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scale := fs.String("scale", "full", "tamanho: full (100 clientes, 1M conversas), medium (20 clientes, 120 mil conversas; exportação em 100 mil linhas) ou small (rápido)")
	out := fs.String("out", "bench/results", "pasta dos relatórios")
	keep := fs.Bool("keep", false, "mantém os bancos criados pelo benchmark")
	skip := fs.String("skip", "", "fases a pular, separadas por vírgula: etl,dashboard,digest,rls,citus,http,fuzz,isolation,whale,etlcost,compare")
	baseline := fs.String("baseline", "", "builds anteriores para comparar o ETL (fase etlcost): rótulo=caminho do binário, separados por vírgula")
	fuzztime := fs.Duration("fuzztime", 0, "tempo por alvo de fuzzing (padrão: 30s em full, 5s em small)")
	loadRequests := fs.Int("load-requests", 0, "LOAD_REQUESTS do teste de isolamento (padrão: 100000 em full)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	sc, ok := bench.Scales[*scale]
	if !ok {
		return fmt.Errorf("escala desconhecida: %s (use full, medium ou small)", *scale)
	}
	if *fuzztime > 0 {
		sc.FuzzTime = *fuzztime
	}
	if *loadRequests > 0 {
		sc.LoadRequests = *loadRequests
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	super := getenv("PGSUPER_URL")
	if super == "" {
		super = getenv("TEST_DATABASE_URL")
	}
	for _, v := range []struct{ name, value string }{
		{"DATABASE_URL", cfg.DatabaseURL}, {"MIGRATION_DATABASE_URL", cfg.MigrationDatabaseURL},
		{"CHATWOOT_ADMIN_URL", getenv("CHATWOOT_ADMIN_URL")}, {"CHATWOOT_DATABASE_URL", cfg.ChatwootDatabaseURL},
		{"PGSUPER_URL", super},
	} {
		if strings.TrimSpace(v.value) == "" {
			return fmt.Errorf("falta a variável de ambiente %s", v.name)
		}
	}
	bc := bench.Config{
		Scale: sc, DatabaseURL: cfg.DatabaseURL, MigrationURL: cfg.MigrationDatabaseURL,
		ChatwootAdminURL: getenv("CHATWOOT_ADMIN_URL"), ChatwootURL: cfg.ChatwootDatabaseURL, SuperURL: super,
		BcryptCost: cfg.BcryptCost, Keep: *keep, CrashDir: filepath.Join(*out, "fuzz-crashers"), Skip: map[string]bool{}, Log: stderr,
	}
	bc.AfterPhase = func(rep *bench.Report) {
		if _, err := rep.Write(*out); err != nil {
			fmt.Fprintf(stderr, "relatório parcial: %v\n", err)
		}
	}
	for _, b := range strings.Split(*baseline, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		label, path, ok := strings.Cut(b, "=")
		if !ok || label == "" || path == "" {
			return fmt.Errorf("--baseline: use rótulo=caminho, por exemplo antes=/tmp/geniai-antes")
		}
		bc.Baselines = append(bc.Baselines, bench.Baseline{Label: label, Binary: path})
	}
	for _, s := range strings.Split(*skip, ",") {
		if s = strings.TrimSpace(s); s != "" {
			bc.Skip[s] = true
		}
	}
	if u := getenv("CITUS_DATABASE_URL"); u != "" {
		workers, _ := strconv.Atoi(getenv("CITUS_WORKERS"))
		bc.Citus = &bench.CitusConfig{DatabaseURL: u, MigrationURL: getenv("CITUS_MIGRATION_DATABASE_URL"), Workers: workers}
	}
	rep, err := bench.Run(ctx, bc)
	if rep == nil {
		return err
	}
	path, werr := rep.Write(*out)
	fmt.Fprintln(stdout, rep.Markdown())
	if werr != nil {
		return werr
	}
	fmt.Fprintf(stderr, "relatório: %s (e %s/latest.md, latest.json)\n", path, *out)
	return err
}

// readme rewrites README.md's numbers from the latest report.
func readme(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("geniai-bench readme", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("readme", "README.md", "README a atualizar (entre os marcadores "+bench.MarkerStart+" e "+bench.MarkerEnd+")")
	out := fs.String("out", "bench/results", "pasta dos relatórios (usa latest.md e latest.json)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := bench.UpdateReadme(*path, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: seção de números atualizada a partir de %s/latest.md\n", *path, *out)
	return nil
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
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
