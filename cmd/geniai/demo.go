package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"

	"github.com/geniai/analytics/internal/alert"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chatwoot"
	"github.com/geniai/analytics/internal/chatwoot/cwsqlc"
	"github.com/geniai/analytics/internal/etl"
	"github.com/geniai/analytics/internal/pg"
	"github.com/geniai/analytics/internal/staff"
	"github.com/geniai/analytics/internal/tenantadmin"
)

func init() {
	register("demo", "dados de demonstração: chatwoot [--accounts N ...] | setup", cmdDemo)
}

// demoFlags are the generator flags shared by `demo chatwoot` and `demo setup`.
func demoFlags(e *env, name string) (*flag.FlagSet, *chatwoot.Options, *string) {
	o := &chatwoot.Options{}
	fs := flags(e, name)
	fs.IntVar(&o.Accounts, "accounts", 3, "academias (contas do Chatwoot)")
	fs.IntVar(&o.InboxesPerAccount, "inboxes", 2, "caixas de entrada por academia")
	fs.IntVar(&o.Conversations, "conversations", 3000, "conversas no total")
	fs.IntVar(&o.Days, "days", 90, "dias de histórico até agora")
	fs.Int64Var(&o.Seed, "seed", 1, "semente (mesma semente e mesmo instante: mesmos dados)")
	url := fs.String("url", e.getenv("CHATWOOT_ADMIN_URL"), "banco do Chatwoot de demonstração, com permissão de escrita (CHATWOOT_ADMIN_URL)")
	return fs, o, url
}

func cmdDemo(ctx context.Context, e *env, args []string) error {
	if err := groupUsage(e, args, "uso: geniai demo chatwoot [--accounts N --inboxes M --conversations K --days D --seed S]\n"+
		"     geniai demo setup [as mesmas opções]\n"); err != nil {
		return err
	}
	fs, o, url := demoFlags(e, "demo "+args[0])
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "chatwoot":
		return demoChatwoot(ctx, e, *url, *o)
	case "setup":
		return demoSetup(ctx, e, *url, *o)
	}
	return apperr.New(apperr.Invalid, "err.cli.unknown_subcommand_use", "demo", args[0], "chatwoot, setup")
}

// demoChatwoot creates the demo Chatwoot database contents unless it already has them.
func demoChatwoot(ctx context.Context, e *env, url string, o chatwoot.Options) error {
	if url == "" {
		return apperr.New(apperr.Invalid, "err.cli.demo_url")
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return apperr.Wrap(err, apperr.Unavailable, "err.cli.demo_connect", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	exists, err := cwsqlc.New(conn).DemoExists(ctx)
	if err != nil {
		return err
	}
	if exists {
		fmt.Fprintln(e.stdout, "Chatwoot de demonstração: já existe, mantido")
		return nil
	}
	start := time.Now()
	sum, err := chatwoot.CreateDemo(ctx, conn, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Chatwoot de demonstração: %d academias, %d caixas, %d conversas, %d mensagens em %s\n",
		sum.Accounts, sum.Inboxes, sum.Conversations, sum.Messages, seconds(time.Since(start)))
	return nil
}

// demoSetup is what `make run` calls: the demo Chatwoot, the platform staff, two demo gyms
// mapped to the first two Chatwoot accounts (the third stays free for onboarding), their users
// (passwords printed once, at creation), and a first sync.
func demoSetup(ctx context.Context, e *env, url string, o chatwoot.Options) error {
	if url != "" {
		if err := demoChatwoot(ctx, e, url, o); err != nil {
			return err
		}
	}
	svc, done, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	sys := pg.System("demo")
	if e.cfg.ChatwootDatabaseURL == "" {
		return apperr.New(apperr.Invalid, "err.cli.missing_env", "CHATWOOT_DATABASE_URL")
	}
	inboxes, err := chatwoot.Inboxes(ctx, e.cfg.ChatwootDatabaseURL)
	if err != nil {
		return err
	}
	byAccount := map[int32][]staff.SourceInbox{}
	var accounts []int32
	for _, ib := range inboxes {
		if len(byAccount[ib.AccountID]) == 0 {
			accounts = append(accounts, ib.AccountID)
		}
		byAccount[ib.AccountID] = append(byAccount[ib.AccountID], ib)
	}
	existing, err := svc.staff.ListTenants(ctx, sys)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range existing {
		have[t.Slug] = true
	}
	type login struct{ who, email, password string }
	var logins []login
	user := func(tenant, email, name, role string) error {
		_, password, err := svc.tenant.CreateUser(ctx, sys, tenantadmin.UserInput{TenantSlug: tenant, Email: email, FullName: name, Role: role})
		if apperr.Is(err, apperr.Conflict) {
			return nil // created on an earlier run; its password was printed then
		}
		if err == nil {
			logins = append(logins, login{role + " · " + tenant, email, password})
		}
		return err
	}
	if err := user("geniai", "admin@geniai.com.br", "Administração GeniAI", "super_admin"); err != nil {
		return err
	}
	if err := user("geniai", "suporte@geniai.com.br", "Suporte GeniAI", "support"); err != nil {
		return err
	}
	for i, acc := range accounts {
		if i == 2 {
			break // the third gym stays unmapped: onboard it from /admin
		}
		ibs := byAccount[acc]
		slug := slugify(ibs[0].AccountName)
		domain := strings.ReplaceAll(slug, "-", "") + ".com.br"
		if !have[slug] {
			in := staff.TenantInput{Slug: slug, Name: ibs[0].AccountName}
			for _, ib := range ibs {
				a := ib.AccountID
				in.Inboxes = append(in.Inboxes, staff.Inbox{ID: ib.ID, AccountID: &a, Name: ib.Name, ChannelType: ib.ChannelType})
			}
			t, err := svc.staff.CreateTenant(ctx, sys, in)
			if err != nil {
				return err
			}
			// Speed to lead: cancellations and complaints are never leads; a person should answer
			// within 5 minutes of business time (10 at the second gym).
			if err := svc.tenant.SetFunnel(ctx, sys, t.ID, tenantadmin.Funnel{LeadAnyMessage: true, VisitLabels: []string{"visita-agendada"},
				ConvertedLabels: []string{"matriculado"}, ExcludedLabels: []string{"cancelamento", "reclamacao"},
				SLAMinutes: int32(5 * (i + 1))}); err != nil {
				return err
			}
			// The first gym's manager gets its alerts by e-mail (docs/alerts.md): `geniai serve`
			// fires them after each sync, and with SMTP set they reach the mail catcher.
			if i == 0 {
				if err := (alert.Guard{}).Save(ctx, svc.db, sys, t.ID, alert.Input{SLAEnabled: true, WindowEnabled: true,
					Emails: "gerente@" + domain}); err != nil {
					return err
				}
			}
		}
		if err := user(slug, "gerente@"+domain, "Gerente", "admin"); err != nil {
			return err
		}
		if err := user(slug, "recepcao@"+domain, "Recepção", "client"); err != nil {
			return err
		}
	}
	if len(logins) > 0 {
		fmt.Fprintln(e.stdout, "\nAcessos de demonstração (as senhas aparecem só agora; guarde-as):")
		for _, l := range logins {
			fmt.Fprintf(e.stdout, "  %-40s %-42s %s\n", l.who, l.email, l.password)
		}
		fmt.Fprintln(e.stdout)
	} else {
		fmt.Fprintln(e.stdout, "Usuários de demonstração já existem (senhas mostradas na primeira execução; troque com `geniai user set-password`).")
	}
	start := time.Now()
	results, err := (&etl.Runner{DB: svc.db, SourceURL: e.cfg.ChatwootDatabaseURL, StatementTimeout: e.cfg.ETLStatementTimeout}).RunAll(ctx, false)
	if err != nil {
		return err
	}
	for _, r := range results {
		status := "ok"
		if r.Err != nil {
			status = r.Err.Error()
		}
		fmt.Fprintf(e.stdout, "sincronização %-28s %6d conversas  %s\n", r.Slug, r.Extracted, status)
	}
	fmt.Fprintf(e.stdout, "sincronização concluída em %s\n", seconds(time.Since(start)))
	return nil
}

// slugify makes "Academia Corpo em Movimento" into "academia-corpo-em-movimento".
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 40 {
		out = strings.TrimRight(out[:40], "-")
	}
	return out
}
