package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/sheet"
	"github.com/geniai/analytics/internal/staff"
)

func init() {
	register("audit", "log de auditoria: [--tenant SLUG] [--action A] [--since D] [--until D] [--limit N] [--csv]", cmdAudit)
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
	svc, closeDB, err := openServices(ctx, e)
	if err != nil {
		return err
	}
	defer closeDB()
	q := staff.AuditQuery{Action: *action, Limit: int32(*limit)}
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
			return apperr.New(apperr.Invalid, "err.cli.date_format", d.v)
		}
		t = t.AddDate(0, 0, d.add)
		*d.dst = &t
	}
	rows, err := svc.staff.Audit(ctx, cli, q)
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
