package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
)

func init() {
	register("etl", "carga do Chatwoot: run [--tenant SLUG] [--full] | status | runs --tenant SLUG", cmdETL)
}

func cmdETL(ctx context.Context, e *env, args []string) error {
	if err := groupUsage(e, args, "uso: geniai etl run [--tenant SLUG] [--full] | status | runs --tenant SLUG [--limit N]\n"); err != nil {
		return err
	}
	switch args[0] {
	case "run":
		fs := flags(e, "etl run")
		slug := fs.String("tenant", "", "só este cliente (slug); padrão: todos")
		full := fs.Bool("full", false, "recarrega tudo, ignorando a marca d'água")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if err := need("DATABASE_URL", e.cfg.DatabaseURL); err != nil {
			return err
		}
		if err := need("CHATWOOT_DATABASE_URL", e.cfg.ChatwootDatabaseURL); err != nil {
			return err
		}
		// One connection per worker (each holds its tenant's lock for the run) and one spare.
		db, err := pg.Open(ctx, e.cfg.DatabaseURL, pg.Options{MaxConns: int32(e.cfg.ETLWorkers) + 1})
		if err != nil {
			return err
		}
		defer db.Close()
		r := &etl.Runner{DB: db, SourceURL: e.cfg.ChatwootDatabaseURL, Workers: e.cfg.ETLWorkers, StatementTimeout: e.cfg.ETLStatementTimeout}
		var results []etl.Result
		if *slug != "" {
			var id int64
			if err := db.InReadTx(ctx, pg.System("cli"), func(tx pg.Tx) error {
				t, err := tx.TenantGetBySlug(ctx, *slug)
				id = t.ID
				return err
			}); err != nil {
				return err
			}
			res, _ := r.RunTenant(ctx, id, *full)
			res.Slug = *slug
			results = append(results, res)
		} else {
			results, err = r.RunAll(ctx, *full)
			if err != nil {
				return err
			}
		}
		failed := 0
		for _, res := range results {
			switch {
			case res.Skipped:
				fmt.Fprintf(e.stdout, "%s: ignorado, outro processo está carregando este cliente\n", res.Slug)
			case res.Err != nil:
				failed++
				fmt.Fprintf(e.stdout, "%s: FALHOU (execução %d): %s\n", res.Slug, res.RunID, apperr.Message(res.Err, locale.PT))
			case res.Unchanged:
				fmt.Fprintf(e.stdout, "%s: ok (execução %d) nada mudou no Chatwoot, em %s\n", res.Slug, res.RunID, res.Duration.Round(time.Millisecond))
			default:
				fmt.Fprintf(e.stdout, "%s: ok (execução %d) lidas %d, inseridas %d, atualizadas %d, removidas %d, mensagens %d em %s\n",
					res.Slug, res.RunID, res.Extracted, res.Inserted, res.Updated, res.Deleted, res.Messages,
					res.Duration.Round(time.Millisecond))
			}
		}
		if failed > 0 {
			return apperr.New(apperr.Unavailable, "err.cli.etl_failed", failed)
		}
		return nil
	case "status":
		fs := flags(e, "etl status")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if err := need("DATABASE_URL", e.cfg.DatabaseURL); err != nil {
			return err
		}
		db, err := pg.Open(ctx, e.cfg.DatabaseURL, pg.Options{MaxConns: 2})
		if err != nil {
			return err
		}
		defer db.Close()
		st, err := (&etl.Runner{DB: db}).Status(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "CLIENTE\tÚLTIMO SUCESSO\tATRASO\tÚLTIMA EXECUÇÃO\tLIDAS\tINS\tATU\tREM\tMSGS\tERRO")
		for _, s := range st {
			last, lag := "nunca", "-"
			if s.LastSuccessAt != nil {
				last = s.LastSuccessAt.Local().Format("2006-01-02 15:04:05")
				lag = s.Lag.Round(time.Second).String()
			}
			status := s.LastStatus
			if status == "" {
				status = "-"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", s.Slug, last, lag, status,
				s.Extracted, s.Inserted, s.Updated, s.Deleted, s.Messages, s.LastError)
		}
		return w.Flush()
	case "runs":
		fs := flags(e, "etl runs")
		slug := fs.String("tenant", "", "cliente (obrigatório)")
		limit := fs.Int("limit", 20, "quantas execuções")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		return withTenant(ctx, e, *slug, func(svc *services, t dbsqlc.AppTenant) error {
			runs, err := svc.staff.Runs(ctx, cli, t.ID, int32(*limit))
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID	INÍCIO	DURAÇÃO	SITUAÇÃO	COMPLETA	LIDAS	INS	ATU	REM	MSGS	ERRO")
			for _, r := range runs {
				dur := "-"
				if r.FinishedAt != nil {
					dur = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%t\t%d\t%d\t%d\t%d\t%d\t%s\n", r.ID, r.StartedAt.Local().Format("2006-01-02 15:04:05"),
					dur, r.Status, r.FullLoad, r.Extracted, r.Inserted, r.Updated, r.Deleted, r.Messages, r.Error)
			}
			return w.Flush()
		})
	}
	return apperr.New(apperr.Invalid, "err.cli.unknown_subcommand_use", "etl", args[0], "run, status, runs")
}
