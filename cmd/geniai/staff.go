package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/geniai/analytics/internal/admin"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/sheet"
)

// The staff actions of the admin panel, as commands for scripts. They call the same
// admin.Service methods as the web panel, as a staff principal, so validation, SQL, RLS and the
// audit trail are the same.

func init() {
	register("audit", "log de auditoria: [--tenant SLUG] [--action A] [--since D] [--until D] [--limit N] [--csv]", cmdAudit)
}

var cli = pg.System("cli")

// set reports whether a flag was given on the command line (to keep current values otherwise).
func set(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// tenantBySlug resolves --slug.
func tenantBySlug(ctx context.Context, svc *admin.Service, slug string) (dbsqlc.AppTenant, error) {
	var t dbsqlc.AppTenant
	if slug == "" {
		return t, apperr.New(apperr.Invalid, "informe --slug")
	}
	err := svc.DB.InReadTx(ctx, cli, func(tx pg.Tx) error {
		var err error
		t, err = tx.TenantGetBySlug(ctx, slug)
		if pg.IsNoRows(err) || err == nil && t.IsPlatform {
			return apperr.New(apperr.NotFound, "Cliente %q não encontrado.", slug)
		}
		return err
	})
	return t, err
}

// tenantAction runs the staff subcommands of `geniai tenant`; ok is false for an unknown one.
func tenantAction(ctx context.Context, e *env, sub string, args []string) (ok bool, err error) {
	fs := flags(e, "tenant "+sub)
	slug := fs.String("slug", "", "cliente (obrigatório)")
	switch sub {
	case "onboard":
		return true, tenantOnboard(ctx, e, args)
	case "update":
		name := fs.String("name", "", "nome")
		plan := fs.String("plan", "", "plano: basic, pro, enterprise")
		status := fs.String("status", "", "situação: active, trial, suspended, cancelled")
		trial := fs.String("trial-ends", "", "fim do teste (AAAA-MM-DD)")
		tz := fs.String("timezone", "", "fuso horário IANA")
		if err := parse(fs, args); err != nil {
			return true, err
		}
		return true, withTenant(ctx, e, *slug, func(svc *admin.Service, t dbsqlc.AppTenant) error {
			edit := admin.TenantEdit{Name: t.Name, Status: t.Status, Plan: t.Plan, TrialEndsAt: t.TrialEndsAt, Timezone: t.Timezone}
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
					return apperr.New(apperr.Invalid, "--trial-ends inválido: use AAAA-MM-DD")
				}
				edit.TrialEndsAt = &d
			}
			_, err := svc.UpdateTenant(ctx, cli, t.ID, edit)
			return done(e, err, "cliente %s atualizado", t.Slug)
		})
	case "suspend", "reactivate", "cancel":
		status := map[string]string{"suspend": "suspended", "reactivate": "active", "cancel": "cancelled"}[sub]
		if err := parse(fs, args); err != nil {
			return true, err
		}
		return true, withTenant(ctx, e, *slug, func(svc *admin.Service, t dbsqlc.AppTenant) error {
			_, err := svc.SetStatus(ctx, cli, t.ID, status)
			return done(e, err, "cliente %s: %s (vale no próximo acesso de cada usuário)", t.Slug, status)
		})
	case "inbox-add", "inbox-remove":
		var inboxes inboxFlag
		fs.Var(&inboxes, "inbox", "id da caixa de entrada do Chatwoot")
		if err := parse(fs, args); err != nil {
			return true, err
		}
		if len(inboxes) != 1 {
			return true, apperr.New(apperr.Invalid, "informe uma --inbox")
		}
		return true, withTenant(ctx, e, *slug, func(svc *admin.Service, t dbsqlc.AppTenant) error {
			if sub == "inbox-remove" {
				return done(e, svc.UnmapInbox(ctx, cli, t.ID, inboxes[0].ID), "caixa %d desvinculada de %s (sai na próxima sincronização)", inboxes[0].ID, t.Slug)
			}
			ib := inboxes[0]
			if e.cfg.ChatwootDatabaseURL != "" {
				if list, err := chatwoot.Inboxes(ctx, e.cfg.ChatwootDatabaseURL); err == nil {
					for _, x := range list {
						if x.ID == ib.ID {
							acc := x.AccountID
							ib = admin.Inbox{ID: x.ID, AccountID: &acc, Name: x.Name, ChannelType: x.ChannelType}
						}
					}
				}
			}
			return done(e, svc.MapInbox(ctx, cli, t.ID, ib), "caixa %d vinculada a %s (entra na próxima sincronização)", ib.ID, t.Slug)
		})
	case "branding":
		var b admin.Branding
		fs.StringVar(&b.DisplayName, "display-name", "", "nome de exibição")
		fs.StringVar(&b.LogoURL, "logo-url", "", "URL do logotipo")
		fs.StringVar(&b.PrimaryColor, "primary", "", "cor principal #RRGGBB")
		fs.StringVar(&b.SecondaryColor, "secondary", "", "cor de destaque #RRGGBB")
		days := fs.Int("default-period", 0, "período padrão em dias: 1, 7, 30, 90, 365")
		if err := parse(fs, args); err != nil {
			return true, err
		}
		return true, withTenant(ctx, e, *slug, func(svc *admin.Service, t dbsqlc.AppTenant) error {
			cur, err := svc.GetSettings(ctx, cli, t.ID)
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
			return done(e, svc.SetBranding(ctx, cli, t.ID, b), "marca de %s atualizada", t.Slug)
		})
	case "funnel":
		leadAny := fs.Bool("lead-any-message", true, "toda conversa em que o contato escreveu é lead")
		var labels [3]string
		var regex [3]string
		for i, st := range []string{"lead", "visit", "converted"} {
			fs.StringVar(&labels[i], st+"-labels", "", "etiquetas de "+st+" (separadas por vírgula)")
			fs.StringVar(&regex[i], st+"-regex", "", "expressão regular de "+st+" (mensagens do contato)")
		}
		if err := parse(fs, args); err != nil {
			return true, err
		}
		return true, withTenant(ctx, e, *slug, func(svc *admin.Service, t dbsqlc.AppTenant) error {
			cur, err := svc.GetSettings(ctx, cli, t.ID)
			if err != nil {
				return err
			}
			f := admin.Funnel{LeadAnyMessage: cur.LeadAnyMessage, LeadLabels: cur.LeadLabels, LeadRegex: optText(cur.LeadRegex),
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
					*dst.l = admin.ParseLabels(labels[i])
				}
				if set(fs, st+"-regex") {
					*dst.r = strings.TrimSpace(regex[i])
				}
			}
			return done(e, svc.SetFunnel(ctx, cli, t.ID, f), "regras do funil de %s atualizadas (reaplicadas ao histórico na próxima sincronização)", t.Slug)
		})
	}
	return false, nil
}

func optText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func withTenant(ctx context.Context, e *env, slug string, fn func(*admin.Service, dbsqlc.AppTenant) error) error {
	svc, closeDB, err := adminService(ctx, e)
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

func done(e *env, err error, format string, args ...any) error {
	if err == nil {
		fmt.Fprintf(e.stdout, format+"\n", args...)
	}
	return err
}

// tenantOnboard is the onboarding wizard as one command: tenant, inboxes (checked against the
// live Chatwoot), first admin (password printed once), then the first full sync.
func tenantOnboard(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "tenant onboard")
	var o admin.Onboarding
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
	svc, closeDB, err := adminService(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	list, err := chatwoot.Inboxes(ctx, e.cfg.ChatwootDatabaseURL)
	if err != nil {
		return err
	}
	res, err := svc.Onboard(ctx, cli, o, list)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "cliente %s criado (id %d)\nadministrador: %s\nsenha: %s\n(guarde agora: ela não será mostrada de novo)\n",
		res.Tenant.Slug, res.Tenant.ID, res.AdminEmail, res.AdminPassword)
	if *noSync {
		return nil
	}
	r, err := (&etl.Runner{DB: svc.DB, SourceURL: e.cfg.ChatwootDatabaseURL, StatementTimeout: e.cfg.ETLStatementTimeout}).RunTenant(ctx, res.Tenant.ID, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "primeira sincronização: %d conversas, %d mensagens em %.1f s\n", r.Extracted, r.Messages, r.Duration.Seconds())
	return nil
}

// userAction runs the staff subcommands of `geniai user`; ok is false for an unknown one.
func userAction(ctx context.Context, e *env, sub string, args []string) (bool, error) {
	fs := flags(e, "user "+sub)
	switch sub {
	case "list":
		slug := fs.String("tenant", "", "só deste cliente")
		q := fs.String("q", "", "busca por e-mail, nome ou cliente")
		if err := parse(fs, args); err != nil {
			return true, err
		}
		svc, closeDB, err := adminService(ctx, e)
		if err != nil {
			return true, err
		}
		defer closeDB()
		var tid *int64
		if *slug != "" {
			t, err := tenantBySlug(ctx, svc, *slug)
			if err != nil && *slug != "geniai" {
				return true, err
			}
			tid = &t.ID
		}
		rows, err := svc.SearchUsers(ctx, cli, tid, *q)
		if err != nil {
			return true, err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tCLIENTE\tE-MAIL\tNOME\tPAPEL\tATIVO\tBLOQUEADO ATÉ")
		for _, u := range rows {
			locked := ""
			if u.LockedUntil != nil && u.LockedUntil.After(time.Now()) {
				locked = u.LockedUntil.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%t\t%s\n", u.ID, u.TenantSlug, u.Email, u.FullName, u.Role, u.IsActive, locked)
		}
		return true, w.Flush()
	case "update", "unlock":
		email := fs.String("email", "", "e-mail do usuário (obrigatório)")
		name := fs.String("name", "", "nome")
		role := fs.String("role", "", "papel")
		active := fs.Bool("active", true, "ativo (--active=false desativa e encerra as sessões)")
		if err := parse(fs, args); err != nil {
			return true, err
		}
		svc, closeDB, err := adminService(ctx, e)
		if err != nil {
			return true, err
		}
		defer closeDB()
		rows, err := svc.SearchUsers(ctx, cli, nil, *email)
		if err != nil {
			return true, err
		}
		var u *dbsqlc.UserSearchRow
		for i := range rows {
			if rows[i].Email == strings.ToLower(strings.TrimSpace(*email)) {
				u = &rows[i]
			}
		}
		if u == nil {
			return true, apperr.New(apperr.NotFound, "Usuário %q não encontrado.", *email)
		}
		if sub == "unlock" {
			return true, done(e, svc.UnlockUser(ctx, cli, u.ID), "%s desbloqueado", u.Email)
		}
		edit := admin.UserEdit{FullName: u.FullName, Role: u.Role, Active: u.IsActive}
		if set(fs, "name") {
			edit.FullName = *name
		}
		if set(fs, "role") {
			edit.Role = *role
		}
		if set(fs, "active") {
			edit.Active = *active
		}
		_, err = svc.UpdateUser(ctx, cli, u.ID, edit)
		return true, done(e, err, "%s atualizado", u.Email)
	}
	return false, nil
}

func cmdAudit(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "audit")
	slug := fs.String("tenant", "", "só deste cliente")
	action := fs.String("action", "", "ações que começam com (login, users.update...)")
	since := fs.String("since", "", "desde (AAAA-MM-DD)")
	until := fs.String("until", "", "até (AAAA-MM-DD, inclusive)")
	limit := fs.Int("limit", 100, "quantos eventos (até 1000)")
	asCSV := fs.Bool("csv", false, "saída em CSV")
	if err := parse(fs, args); err != nil {
		return err
	}
	svc, closeDB, err := adminService(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	q := admin.AuditQuery{Action: *action, Limit: int32(*limit)}
	if *slug != "" {
		t, err := tenantBySlug(ctx, svc, *slug)
		if err != nil {
			return err
		}
		q.TenantID = &t.ID
	}
	for _, d := range []struct {
		v   string
		dst **time.Time
		add int
	}{{*since, &q.Since, 0}, {*until, &q.Until, 1}} {
		if d.v == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.v)
		if err != nil {
			return apperr.New(apperr.Invalid, "data inválida %q: use AAAA-MM-DD", d.v)
		}
		t = t.AddDate(0, 0, d.add)
		*d.dst = &t
	}
	rows, err := svc.Audit(ctx, cli, q)
	if err != nil {
		return err
	}
	if *asCSV {
		var cols []sheet.Column
		for _, k := range []string{"quando", "cliente", "ator", "acao", "entidade", "id", "antes", "depois", "ip"} {
			cols = append(cols, sheet.Column{Key: k, Kind: sheet.Text})
		}
		cols[0].Kind = sheet.DateTime
		w, err := sheet.NewCSV(e.stdout, sheet.Table{Columns: cols})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := w.Row(sheet.Time(r.At), sheet.Str(r.TenantSlug), sheet.Str(r.ActorEmail), sheet.Str(r.Action), sheet.Str(optText(r.Entity)),
				sheet.Str(optText(r.EntityID)), sheet.Str(string(r.OldValues)), sheet.Str(string(r.NewValues)), sheet.Str(r.IP)); err != nil {
				return err
			}
		}
		return w.Close()
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUANDO\tCLIENTE\tATOR\tAÇÃO\tID")
	for _, r := range rows {
		actor := r.ActorEmail
		if actor == "" {
			actor = optText(r.ActorRole)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.At.Format(time.RFC3339), r.TenantSlug, actor, r.Action, optText(r.EntityID))
	}
	return tw.Flush()
}
