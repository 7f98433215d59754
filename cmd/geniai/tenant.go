package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/geniai/analytics/internal/admin"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/pg"
)

func init() {
	register("tenant", "clientes: create | list | onboard | update | suspend | reactivate | cancel | inbox-add | inbox-remove | branding | funnel", cmdTenant)
}

// inboxFlag collects repeated --inbox ID values.
type inboxFlag []admin.Inbox

func (f *inboxFlag) String() string { return fmt.Sprint(*f) }
func (f *inboxFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 32)
		if err != nil || id <= 0 {
			return fmt.Errorf("caixa de entrada %q inválida: use o id numérico do Chatwoot", part)
		}
		*f = append(*f, admin.Inbox{ID: int32(id)})
	}
	return nil
}

// adminService opens the authenticator pool for an admin command; the caller closes it.
func adminService(ctx context.Context, e *env) (*admin.Service, func(), error) {
	if err := need("DATABASE_URL", e.cfg.DatabaseURL); err != nil {
		return nil, nil, err
	}
	db, err := pg.Open(ctx, e.cfg.DatabaseURL, pg.Options{MaxConns: 2, StatementTimeout: e.cfg.StatementTimeout})
	if err != nil {
		return nil, nil, err
	}
	return &admin.Service{DB: db, BcryptCost: e.cfg.BcryptCost}, db.Close, nil
}

func cmdTenant(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "uso: geniai tenant create --slug S --name N [--timezone TZ] [--plan P] [--inbox ID ...] | geniai tenant list")
		return errUsage
	}
	switch args[0] {
	case "create":
		fs := flags(e, "tenant create")
		var in admin.TenantInput
		var inboxes inboxFlag
		fs.StringVar(&in.Slug, "slug", "", "identificador na URL (obrigatório)")
		fs.StringVar(&in.Name, "name", "", "nome do cliente (obrigatório)")
		fs.StringVar(&in.Timezone, "timezone", "America/Sao_Paulo", "fuso horário IANA")
		fs.StringVar(&in.Plan, "plan", "basic", "plano: basic, pro ou enterprise")
		fs.Var(&inboxes, "inbox", "id de caixa de entrada do Chatwoot (repetível)")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		in.Inboxes = inboxes
		if err := in.Validate(); err != nil {
			return err
		}
		svc, done, err := adminService(ctx, e)
		if err != nil {
			return err
		}
		defer done()
		t, err := svc.CreateTenant(ctx, pg.System("cli"), in)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "cliente %s criado (id %d, %d caixa(s) de entrada)\n", t.Slug, t.ID, len(in.Inboxes))
		return nil
	case "list":
		fs := flags(e, "tenant list")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		svc, done, err := adminService(ctx, e)
		if err != nil {
			return err
		}
		defer done()
		rows, err := svc.ListTenants(ctx, pg.System("cli"))
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tSLUG\tNOME\tSITUAÇÃO\tPLANO\tFUSO\tUSUÁRIOS\tCAIXAS")
		for _, t := range rows {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", t.ID, t.Slug, t.Name, t.Status, t.Plan, t.Timezone, t.Users, t.Inboxes)
		}
		return w.Flush()
	}
	if ok, err := tenantAction(ctx, e, args[0], args[1:]); ok {
		return err
	}
	return apperr.New(apperr.Invalid, "subcomando desconhecido: tenant %s", args[0])
}
