package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/digest"
	"github.com/geniai/analytics/internal/mail"
	"github.com/geniai/analytics/internal/pg"
)

// digestPhase: how many weekly digests one process renders per second for the median and the
// largest tenant — the period's dashboard, three PNG charts, the HTML and text parts, each in its own transaction as the subscriber (what the scheduler
// does, without queueing; the attachment is the .xlsx export measured on its own) — and the share of that time spent drawing and templating alone.
func (r *run) digestPhase(ctx context.Context) error {
	svc := &dashboard.Service{DB: r.db}
	picks, err := r.pick(ctx, svc)
	if err != nil {
		return err
	}
	s := &digest.Scheduler{DB: r.db, Dash: svc, Mail: mail.Config{PublicURL: "https://analytics.example.com", From: "bench@example.com"}}
	n := max(10, r.cfg.Scale.Samples/10)
	for _, p := range picks[1:] {
		today := p.dt.Today(time.Now())
		d := dbsqlc.DigestDueRow{TenantID: p.t.id, UserID: p.t.userID, Role: pg.AppClient, Email: "bench@example.com",
			Language: "pt-BR", Frequency: "weekly", PeriodStart: today.AddDate(0, 0, -7), PeriodEnd: today.AddDate(0, 0, -1)}
		var bytes, convs int
		var dash *dashboard.Dashboard
		once := func() error {
			return r.db.InReadTx(ctx, digest.Subscriber(d), func(tx pg.Tx) error {
				m, err := s.Compose(ctx, tx, d, "0000000000000000000000000000000000000000000000000000000000000000")
				if err != nil {
					return err
				}
				bytes = len(m.HTML) + len(m.Text)
				for _, f := range m.Files {
					bytes += len(f.Data)
				}
				if dash == nil {
					dash, err = svc.LoadIn(ctx, tx, d.TenantID, dashboard.Filter{From: d.PeriodStart, To: d.PeriodEnd})
				}
				return err
			})
		}
		if err := once(); err != nil {
			return fmt.Errorf("digest %s: %w", p.t.slug, err)
		}
		t0 := time.Now()
		for i := 0; i < n; i++ {
			if err := once(); err != nil {
				return err
			}
		}
		el := time.Since(t0)
		if dash.KPIs.Conversations.Cur != nil {
			convs = int(*dash.KPIs.Conversations.Cur)
		}
		r.rep.add("digest", fmt.Sprintf("weekly digests rendered per second, %s tenant", p.label), float64(n)/el.Seconds(), "digests/s", nil,
			fmt.Sprintf("%d digests of %s conversations each (dashboard, 3 PNG charts, HTML + text; %s KB each; the .xlsx attachment is the export bench's figure), one process, sequential",
				n, format(float64(convs)), format(float64(bytes)/1024)))
		// The Go side alone: charts and templates from the already loaded dashboard.
		in := digest.Input{Lang: "pt-BR", Frequency: "weekly", Brand: mail.Brand{Name: p.t.slug}, Dash: dash,
			PublicURL: "https://analytics.example.com", UnsubscribeURL: "https://analytics.example.com/unsubscribe/x"}
		t0 = time.Now()
		for i := 0; i < n; i++ {
			if _, err := digest.Render(in); err != nil {
				return err
			}
		}
		goOnly := time.Since(t0)
		r.rep.add("digest", fmt.Sprintf("charts + templates alone, %s tenant", p.label), float64(n)/goOnly.Seconds(), "digests/s", nil,
			fmt.Sprintf("%.0f%% of the whole render; the rest is the dashboard's queries", 100*goOnly.Seconds()/el.Seconds()))
	}
	return nil
}
