package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/bootstrap"
)

func init() {
	register("db", "banco de dados: db bootstrap (papéis, banco, leitor do Chatwoot, backup num PostgreSQL existente), db distribute (distribui as tabelas num cluster Citus)", cmdDB)
}

func cmdDB(ctx context.Context, e *env, args []string) error {
	if err := groupUsage(e, args, "uso: geniai db bootstrap [--database D] [--chatwoot [--role R] [--schema S] | --backup] [--apply]\n"+
		"     geniai db distribute [--shards N] [--quiet]\n"); err != nil {
		return err
	}
	switch args[0] {
	case "bootstrap":
		return cmdDBBootstrap(ctx, e, args[1:])
	case "distribute":
		return cmdDBDistribute(ctx, e, args[1:])
	}
	return apperr.New(apperr.Invalid, "err.cli.unknown_subcommand_use", "db", args[0], "bootstrap, distribute")
}

// cmdDBBootstrap prints (or applies) one of the bootstrap scripts. Passwords come from the
// environment, never from the command line (which other users of the machine can read).
func cmdDBBootstrap(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "db bootstrap")
	database := fs.String("database", "geniai", "o banco da GeniAI (criado se não existir)")
	chatwoot := fs.Bool("chatwoot", false, "o papel somente-leitura no banco do Chatwoot (CHATWOOT_READER_PASSWORD), em vez dos papéis da GeniAI")
	backup := fs.Bool("backup", false, "o papel de backup geniai_backup (GENIAI_BACKUP_PASSWORD; exige superusuário no PostgreSQL 15)")
	role := fs.String("role", "chatwoot_reader", "com --chatwoot: o nome do papel somente-leitura")
	schema := fs.String("schema", "public", "com --chatwoot: o esquema das tabelas do Chatwoot")
	apply := fs.Bool("apply", false, "aplicar em vez de imprimir: conecta com ADMIN_DATABASE_URL ou as variáveis PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *chatwoot && *backup {
		fmt.Fprintln(e.stderr, "use --chatwoot ou --backup, não os dois")
		return errUsage
	}
	var (
		script bootstrap.Script
		err    error
	)
	switch {
	case *chatwoot:
		script, err = bootstrap.ChatwootReader(*role, *schema, e.getenv("CHATWOOT_READER_PASSWORD"))
	case *backup:
		script, err = bootstrap.BackupRole(*database, e.getenv("GENIAI_BACKUP_PASSWORD"))
	default:
		script, err = bootstrap.Roles(*database, bootstrap.Passwords{
			Owner:         e.getenv("GENIAI_OWNER_PASSWORD"),
			Authenticator: e.getenv("GENIAI_AUTHENTICATOR_PASSWORD"),
		})
	}
	if err != nil {
		return err
	}
	if !*apply {
		_, err := fmt.Fprint(e.stdout, script.SQL())
		return err
	}
	// An empty URL makes pgx read libpq's PG* variables, like psql does.
	conn, err := pgx.Connect(ctx, e.getenv("ADMIN_DATABASE_URL"))
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "err.cli.admin_connect", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return script.Apply(ctx, conn, func(msg string) { fmt.Fprintln(e.stdout, msg) })
}
