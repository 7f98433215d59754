package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
	"github.com/geniai/analytics/internal/tenantadmin"
)

// `geniai tenant`: the admin panel's tenant actions as commands for scripts. They call the same
// services as the web panel, so validation, SQL, RLS and the audit trail are the same.

func init() {
	register("tenant", "clientes: create | list | onboard | update | suspend | reactivate | cancel | inbox-add | inbox-remove | branding | funnel", cmdTenant)
}

const tenantUsage = `uso: geniai tenant create --slug S --name N [--timezone TZ] [--plan P] [--inbox ID ...]
     geniai tenant onboard --slug S --name N --inbox ID ... --admin-email E [--admin-name N] [--timezone TZ] [--no-sync]
     geniai tenant list | update --slug S [--name --plan --status --trial-ends --timezone]
     geniai tenant suspend|reactivate|cancel --slug S
     geniai tenant inbox-add|inbox-remove --slug S --inbox ID
     geniai tenant branding --slug S [--display-name --logo-url --primary --secondary --default-period]
     geniai tenant funnel --slug S [--lead-any-message --lead-labels --lead-regex --visit-labels ...]
`

func cmdTenant(ctx context.Context, e *env, args []string) error {
	if err := groupUsage(e, args, tenantUsage); err != nil {
		return err
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "create":
		return tenantCreate(ctx, e, args)
	case "list":
		return tenantList(ctx, e, args)
	case "onboard":
		return tenantOnboard(ctx, e, args)
	case "update":
		return tenantUpdate(ctx, e, args)
	case "suspend", "reactivate", "cancel":
		return tenantStatus(ctx, e, sub, args)
	case "inbox-add", "inbox-remove":
		return tenantInbox(ctx, e, sub, args)
	case "branding":
		return tenantBranding(ctx, e, args)
	case "funnel":
		return tenantFunnel(ctx, e, args)
	}
	return apperr.New(apperr.Invalid, "err.cli.unknown_subcommand", "tenant", sub)
}

// inboxFlag collects repeated --inbox ID values.
type inboxFlag []staff.Inbox

func (f *inboxFlag) String() string { return fmt.Sprint(*f) }
func (f *inboxFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 32)
		if err != nil || id <= 0 {
			return fmt.Errorf("caixa de entrada %q inválida: use o id numérico do Chatwoot", part)
		}
		*f = append(*f, staff.Inbox{ID: int32(id)})
	}
	return nil
}

// tenantBySlug resolves --slug.
func tenantBySlug(ctx context.Context, svc *services, slug string) (dbsqlc.AppTenant, error) {
	var t dbsqlc.AppTenant
	if slug == "" {
		return t, apperr.New(apperr.Invalid, "err.cli.need_flag", "--slug")
	}
	err := svc.db.InReadTx(ctx, cli, func(tx pg.Tx) error {
		var err error
		t, err = tx.TenantGetBySlug(ctx, slug)
		if pg.IsNoRows(err) || err == nil && t.IsPlatform {
			return apperr.New(apperr.NotFound, "err.tenant.not_found_slug", slug)
		}
		return err
	})
	return t, err
}

// withTenant opens the services, resolves the tenant by slug and runs fn.
func withTenant(ctx context.Context, e *env, slug string, fn func(*services, dbsqlc.AppTenant) error) error {
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	t, err := tenantBySlug(ctx, svc, slug)
	if err != nil {
		return err
	}
	return fn(svc, t)
}

func tenantCreate(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "tenant create")
	var in staff.TenantInput
	var inboxes inboxFlag
	fs.StringVar(&in.Slug, "slug", "", "identificador na URL (obrigatório)")
	fs.StringVar(&in.Name, "name", "", "nome do cliente (obrigatório)")
	fs.StringVar(&in.Timezone, "timezone", "America/Sao_Paulo", "fuso horário IANA")
	fs.StringVar(&in.Plan, "plan", "basic", "plano: basic, pro ou enterprise")
	fs.Var(&inboxes, "inbox", "id de caixa de entrada do Chatwoot (repetível)")
	if err := parse(fs, args); err != nil {
		return err
	}
	in.Inboxes = inboxes
	if err := in.Validate(); err != nil {
		return err
	}
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	t, err := svc.staff.CreateTenant(ctx, cli, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "cliente %s criado (id %d, %d caixa(s) de entrada)\n", t.Slug, t.ID, len(in.Inboxes))
	return nil
}

func tenantList(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "tenant list")
	if err := parse(fs, args); err != nil {
		return err
	}
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	rows, err := svc.staff.ListTenants(ctx, cli)
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

// tenantOnboard is the onboarding wizard as one command: tenant, inboxes (checked against the
// live Chatwoot), first admin (password printed once), then the first full sync.
func tenantOnboard(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "tenant onboard")
	var o staff.Onboarding
	var inboxes inboxFlag
	fs.StringVar(&o.Tenant.Slug, "slug", "", "identificador (obrigatório)")
	fs.StringVar(&o.Tenant.Name, "name", "", "nome (obrigatório)")
	fs.StringVar(&o.Tenant.Timezone, "timezone", "America/Sao_Paulo", "fuso horário IANA")
	fs.Var(&inboxes, "inbox", "caixa de entrada do Chatwoot (repetível, ao menos uma)")
	fs.StringVar(&o.AdminEmail, "admin-email", "", "e-mail do primeiro administrador (obrigatório)")
	fs.StringVar(&o.AdminName, "admin-name", "", "nome do primeiro administrador")
	noSync := fs.Bool("no-sync", false, "não sincronizar agora")
	if err := parse(fs, args); err != nil {
		return err
	}
	o.Tenant.Inboxes = inboxes
	if err := need("CHATWOOT_DATABASE_URL", e.cfg.ChatwootDatabaseURL); err != nil {
		return err
	}
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	list, err := chatwoot.Inboxes(ctx, e.cfg.ChatwootDatabaseURL)
	if err != nil {
		return err
	}
	res, err := svc.staff.Onboard(ctx, cli, o, list)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "cliente %s criado (id %d)\nadministrador: %s\nsenha: %s\n(guarde agora: ela não será mostrada de novo)\n",
		res.Tenant.Slug, res.Tenant.ID, res.AdminEmail, res.AdminPassword)
	if *noSync {
		return nil
	}
	r, err := (&etl.Runner{DB: svc.db, SourceURL: e.cfg.ChatwootDatabaseURL, StatementTimeout: e.cfg.ETLStatementTimeout}).RunTenant(ctx, res.Tenant.ID, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "primeira sincronização: %d conversas, %d mensagens em %s\n", r.Extracted, r.Messages, seconds(r.Duration))
	return nil
}

// tenantFlags is the flag set of a subcommand that acts on one existing tenant (--slug).
func tenantFlags(e *env, sub string) (*flag.FlagSet, *string) {
	fs := flags(e, "tenant "+sub)
	return fs, fs.String("slug", "", "cliente (obrigatório)")
}

func tenantUpdate(ctx context.Context, e *env, args []string) error {
	fs, slug := tenantFlags(e, "update")
	name := fs.String("name", "", "nome")
	plan := fs.String("plan", "", "plano: basic, pro, enterprise")
	status := fs.String("status", "", "situação: active, trial, suspended, cancelled")
	trial := fs.String("trial-ends", "", "fim do teste (AAAA-MM-DD)")
	tz := fs.String("timezone", "", "fuso horário IANA")
	if err := parse(fs, args); err != nil {
		return err
	}
	return withTenant(ctx, e, *slug, func(svc *services, t dbsqlc.AppTenant) error {
		edit := staff.TenantEdit{Name: t.Name, Status: t.Status, Plan: t.Plan, TrialEndsAt: t.TrialEndsAt, Timezone: t.Timezone}
		if set(fs, "name") {
			edit.Name = *name
		}
		if set(fs, "plan") {
			edit.Plan = *plan
		}
		if set(fs, "status") {
			edit.Status = *status
		}
		if set(fs, "timezone") {
			edit.Timezone = *tz
		}
		if set(fs, "trial-ends") {
			d, err := time.Parse("2006-01-02", *trial)
			if err != nil {
				return apperr.New(apperr.Invalid, "err.cli.trial_ends_format")
			}
			edit.TrialEndsAt = &d
		}
		_, err := svc.staff.UpdateTenant(ctx, cli, t.ID, edit)
		return done(e, err, "cliente %s atualizado", t.Slug)
	})
}

// tenantStatus is suspend, reactivate and cancel.
func tenantStatus(ctx context.Context, e *env, sub string, args []string) error {
	fs, slug := tenantFlags(e, sub)
	status := map[string]string{"suspend": "suspended", "reactivate": "active", "cancel": "cancelled"}[sub]
	if err := parse(fs, args); err != nil {
		return err
	}
	return withTenant(ctx, e, *slug, func(svc *services, t dbsqlc.AppTenant) error {
		_, err := svc.staff.SetStatus(ctx, cli, t.ID, status)
		return done(e, err, "cliente %s: %s (vale no próximo acesso de cada usuário)", t.Slug, status)
	})
}

// tenantInbox is inbox-add and inbox-remove.
func tenantInbox(ctx context.Context, e *env, sub string, args []string) error {
	fs, slug := tenantFlags(e, sub)
	var inboxes inboxFlag
	fs.Var(&inboxes, "inbox", "id da caixa de entrada do Chatwoot")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(inboxes) != 1 {
		return apperr.New(apperr.Invalid, "err.cli.need_one_inbox")
	}
	return withTenant(ctx, e, *slug, func(svc *services, t dbsqlc.AppTenant) error {
		if sub == "inbox-remove" {
			return done(e, svc.staff.UnmapInbox(ctx, cli, t.ID, inboxes[0].ID), "caixa %d desvinculada de %s (sai na próxima sincronização)", inboxes[0].ID, t.Slug)
		}
		ib := inboxes[0]
		if e.cfg.ChatwootDatabaseURL != "" {
			if list, err := chatwoot.Inboxes(ctx, e.cfg.ChatwootDatabaseURL); err == nil {
				for _, x := range list {
					if x.ID == ib.ID {
						acc := x.AccountID
						ib = staff.Inbox{ID: x.ID, AccountID: &acc, Name: x.Name, ChannelType: x.ChannelType}
					}
				}
			}
		}
		return done(e, svc.staff.MapInbox(ctx, cli, t.ID, ib), "caixa %d vinculada a %s (entra na próxima sincronização)", ib.ID, t.Slug)
	})
}

func tenantBranding(ctx context.Context, e *env, args []string) error {
	fs, slug := tenantFlags(e, "branding")
	var b tenantadmin.Branding
	fs.StringVar(&b.DisplayName, "display-name", "", "nome de exibição")
	fs.StringVar(&b.LogoURL, "logo-url", "", "URL do logotipo")
	fs.StringVar(&b.PrimaryColor, "primary", "", "cor principal #RRGGBB")
	fs.StringVar(&b.SecondaryColor, "secondary", "", "cor de destaque #RRGGBB")
	days := fs.Int("default-period", 0, "período padrão em dias: 1, 7, 30, 90, 365")
	if err := parse(fs, args); err != nil {
		return err
	}
	return withTenant(ctx, e, *slug, func(svc *services, t dbsqlc.AppTenant) error {
		cur, err := svc.tenant.GetSettings(ctx, cli, t.ID)
		if err != nil {
			return err
		}
		keep := func(name string, v *string, current string) {
			if !set(fs, name) {
				*v = current
			}
		}
		keep("display-name", &b.DisplayName, cur.DisplayName)
		keep("primary", &b.PrimaryColor, cur.PrimaryColor)
		keep("secondary", &b.SecondaryColor, cur.SecondaryColor)
		if !set(fs, "logo-url") && cur.LogoURL != nil {
			b.LogoURL = *cur.LogoURL
		}
		b.DefaultPeriodDays = cur.DefaultPeriodDays
		if set(fs, "default-period") {
			b.DefaultPeriodDays = int32(*days)
		}
		return done(e, svc.tenant.SetBranding(ctx, cli, t.ID, b), "marca de %s atualizada", t.Slug)
	})
}

func tenantFunnel(ctx context.Context, e *env, args []string) error {
	fs, slug := tenantFlags(e, "funnel")
	leadAny := fs.Bool("lead-any-message", true, "toda conversa em que o contato escreveu é lead")
	var labels [3]string
	var regex [3]string
	for i, st := range []string{"lead", "visit", "converted"} {
		fs.StringVar(&labels[i], st+"-labels", "", "etiquetas de "+st+" (separadas por vírgula)")
		fs.StringVar(&regex[i], st+"-regex", "", "expressão regular de "+st+" (mensagens do contato)")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	return withTenant(ctx, e, *slug, func(svc *services, t dbsqlc.AppTenant) error {
		cur, err := svc.tenant.GetSettings(ctx, cli, t.ID)
		if err != nil {
			return err
		}
		f := tenantadmin.Funnel{LeadAnyMessage: cur.LeadAnyMessage, LeadLabels: cur.LeadLabels, LeadRegex: optText(cur.LeadRegex),
			VisitLabels: cur.VisitLabels, VisitRegex: optText(cur.VisitRegex), ConvertedLabels: cur.ConvertedLabels, ConvertedRegex: optText(cur.ConvertedRegex)}
		if set(fs, "lead-any-message") {
			f.LeadAnyMessage = *leadAny
		}
		for i, dst := range []struct {
			l *[]string
			r *string
		}{{&f.LeadLabels, &f.LeadRegex}, {&f.VisitLabels, &f.VisitRegex}, {&f.ConvertedLabels, &f.ConvertedRegex}} {
			st := []string{"lead", "visit", "converted"}[i]
			if set(fs, st+"-labels") {
				*dst.l = tenantadmin.ParseLabels(labels[i])
			}
			if set(fs, st+"-regex") {
				*dst.r = strings.TrimSpace(regex[i])
			}
		}
		return done(e, svc.tenant.SetFunnel(ctx, cli, t.ID, f), "regras do funil de %s atualizadas (reaplicadas ao histórico na próxima sincronização)", t.Slug)
	})
}
