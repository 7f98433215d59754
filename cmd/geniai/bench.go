package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/bench"
)

func init() {
	register("bench", "benchmark de ponta a ponta: [--scale full|medium|small] [--out DIR] | readme", cmdBench)
}

// cmdBench runs the whole benchmark against a cluster (PGSUPER_URL creates throwaway databases
// beside the ones in DATABASE_URL and friends), or rewrites README.md's numbers with `bench readme`.
func cmdBench(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "readme" {
		fs := flags(e, "bench readme")
		readme := fs.String("readme", "README.md", "README a atualizar (entre os marcadores "+bench.MarkerStart+" e "+bench.MarkerEnd+")")
		out := fs.String("out", "bench/results", "pasta dos relatórios (usa latest.md e latest.json)")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if err := bench.UpdateReadme(*readme, *out); err != nil {
			return apperr.Wrap(err, apperr.Invalid, "%v", err)
		}
		fmt.Fprintf(e.stdout, "%s: seção de números atualizada a partir de %s/latest.md\n", *readme, *out)
		return nil
	}
	fs := flags(e, "bench")
	scale := fs.String("scale", "full", "tamanho: full (100 clientes, 1M conversas), medium (20 clientes, 120 mil conversas; exportação em 100 mil linhas) ou small (rápido)")
	out := fs.String("out", "bench/results", "pasta dos relatórios")
	keep := fs.Bool("keep", false, "mantém os bancos criados pelo benchmark")
	skip := fs.String("skip", "", "fases a pular, separadas por vírgula: etl,dashboard,digest,rls,http,fuzz,isolation,whale,etlcost,compare")
	baseline := fs.String("baseline", "", "builds anteriores para comparar o ETL (fase etlcost): rótulo=caminho do binário, separados por vírgula")
	fuzztime := fs.Duration("fuzztime", 0, "tempo por alvo de fuzzing (padrão: 30s em full, 5s em small)")
	loadRequests := fs.Int("load-requests", 0, "LOAD_REQUESTS do teste de isolamento (padrão: 100000 em full)")
	if err := parse(fs, args); err != nil {
		return err
	}
	sc, ok := bench.Scales[*scale]
	if !ok {
		return apperr.New(apperr.Invalid, "escala desconhecida: %s (use full, medium ou small)", *scale)
	}
	if *fuzztime > 0 {
		sc.FuzzTime = *fuzztime
	}
	if *loadRequests > 0 {
		sc.LoadRequests = *loadRequests
	}
	super := e.getenv("PGSUPER_URL")
	if super == "" {
		super = e.getenv("TEST_DATABASE_URL")
	}
	for name, v := range map[string]string{
		"DATABASE_URL": e.cfg.DatabaseURL, "MIGRATION_DATABASE_URL": e.cfg.MigrationDatabaseURL,
		"CHATWOOT_ADMIN_URL": e.getenv("CHATWOOT_ADMIN_URL"), "CHATWOOT_DATABASE_URL": e.cfg.ChatwootDatabaseURL,
		"PGSUPER_URL": super,
	} {
		if err := need(name, v); err != nil {
			return err
		}
	}
	cfg := bench.Config{
		Scale: sc, DatabaseURL: e.cfg.DatabaseURL, MigrationURL: e.cfg.MigrationDatabaseURL,
		ChatwootAdminURL: e.getenv("CHATWOOT_ADMIN_URL"), ChatwootURL: e.cfg.ChatwootDatabaseURL, SuperURL: super,
		BcryptCost: e.cfg.BcryptCost, Keep: *keep, CrashDir: filepath.Join(*out, "fuzz-crashers"), Skip: map[string]bool{}, Log: e.stderr,
	}
	cfg.AfterPhase = func(rep *bench.Report) {
		if _, err := rep.Write(*out); err != nil {
			fmt.Fprintf(e.stderr, "relatório parcial: %v\n", err)
		}
	}
	for _, b := range strings.Split(*baseline, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		label, path, ok := strings.Cut(b, "=")
		if !ok || label == "" || path == "" {
			return apperr.New(apperr.Invalid, "--baseline: use rótulo=caminho, por exemplo antes=/tmp/geniai-antes")
		}
		cfg.Baselines = append(cfg.Baselines, bench.Baseline{Label: label, Binary: path})
	}
	for _, s := range strings.Split(*skip, ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.Skip[s] = true
		}
	}
	rep, err := bench.Run(ctx, cfg)
	if rep == nil {
		return err
	}
	path, werr := rep.Write(*out)
	fmt.Fprintln(e.stdout, rep.Markdown())
	if werr != nil {
		return werr
	}
	fmt.Fprintf(e.stderr, "relatório: %s (e %s/latest.md, latest.json)\n", path, *out)
	return err
}
