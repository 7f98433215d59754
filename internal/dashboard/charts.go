package dashboard

import (
	"strconv"
	"time"

	"github.com/geniai/analytics/internal/apperr"
)

// FRTBuckets are the labels of the first-reply distribution, by analytics.frt_bucket.
var FRTBuckets = []string{"< 1 min", "1–5 min", "5–15 min", "15–60 min", "1–4 h", "4–24 h", "> 24 h"}

// Weekdays are the pt-BR weekday names, Sunday first (created_dow).
var Weekdays = []string{"Domingo", "Segunda", "Terça", "Quarta", "Quinta", "Sexta", "Sábado"}

// DayPoint is one day of the daily chart.
type DayPoint struct {
	Day           time.Time
	Conversations int64
	Leads         int64
	ByInbox       map[int32]int64
}

// DailySeries fills every day of the period (days without conversations are zero); ByInbox
// only when the filter stacks the chart by inbox (Filter.Stacked), the only case Load reads the
// per-inbox series for.
func (d *Dashboard) DailySeries() []DayPoint {
	idx := map[time.Time]int{}
	var out []DayPoint
	for day := d.Filter.From; !day.After(d.Filter.To); day = day.AddDate(0, 0, 1) {
		idx[day] = len(out)
		out = append(out, DayPoint{Day: day, ByInbox: map[int32]int64{}})
	}
	for _, r := range d.Daily {
		i, ok := idx[r.Day]
		if !ok {
			continue
		}
		out[i].Conversations += r.Conversations
		out[i].Leads += r.Leads
		if d.Filter.Stacked {
			out[i].ByInbox[r.InboxID] += r.Conversations
		}
	}
	return out
}

// FRTCounts is the distribution as 7 counts (missing buckets are zero).
func (d *Dashboard) FRTCounts() [7]int64 {
	var out [7]int64
	for _, r := range d.FRT {
		if r.Bucket >= 0 && int(r.Bucket) < len(out) {
			out[r.Bucket] = r.Conversations
		}
	}
	return out
}

// HeatmapGrid is conversations by [weekday][hour].
func (d *Dashboard) HeatmapGrid() (grid [7][24]int64, max int64) {
	for _, r := range d.Heatmap {
		if r.Dow >= 0 && r.Dow < 7 && r.Hour >= 0 && r.Hour < 24 {
			grid[r.Dow][r.Hour] = r.Conversations
			if r.Conversations > max {
				max = r.Conversations
			}
		}
	}
	return grid, max
}

// CSATCounts is ratings 1..5 as counts at index rating-1.
func (d *Dashboard) CSATCounts() [5]int64 {
	var out [5]int64
	for _, r := range d.CSAT {
		if r.Rating >= 1 && r.Rating <= 5 {
			out[r.Rating-1] = r.Conversations
		}
	}
	return out
}

// InboxName returns the display name of an inbox of the tenant.
func (d *Dashboard) InboxName(id int32) string {
	for _, ib := range d.Inboxes {
		if ib.InboxID == id {
			if ib.InboxName != "" {
				return ib.InboxName
			}
			break
		}
	}
	return "Caixa " + strconv.Itoa(int(id))
}

// Charts are the names accepted by ChartCSV.
var Charts = []string{"kpis", "daily", "funnel", "first-reply", "heatmap", "inboxes", "labels", "csat"}

// ChartCSV writes the data behind one chart.
func (d *Dashboard) ChartCSV(name string, w *CSVWriter) error {
	k := d.KPIs
	switch name {
	case "kpis":
		w.Row("indicador", "valor", "periodo_anterior", "variacao_pct")
		for _, m := range []struct {
			name string
			v    Value
		}{
			{"conversas", k.Conversations}, {"leads", k.Leads}, {"visitas_agendadas", k.Visits},
			{"matriculas", k.Conversions}, {"taxa_lead_visita", k.LeadToVisit},
			{"taxa_visita_matricula", k.VisitToConversion}, {"leads_sem_resposta", k.UnansweredLeads},
			{"primeira_resposta_mediana_s", k.FirstReplyP50}, {"primeira_resposta_p90_s", k.FirstReplyP90},
			{"primeira_resposta_humana_mediana_s", k.FirstHumanReplyP50},
			{"primeira_resposta_humana_p90_s", k.FirstHumanReplyP90},
			{"taxa_resolucao", k.ResolutionRate}, {"resolucao_mediana_s", k.ResolutionP50},
			{"parcela_resolvida_pelo_bot", k.BotResolvedShare}, {"taxa_transbordo", k.HandoffRate},
			{"csat_satisfacao", k.CSATSatisfaction}, {"csat_respostas", k.CSATResponses},
		} {
			w.Row(m.name, w.Float(m.v.Cur), w.Float(m.v.Prev), w.Float(m.v.Change()))
		}
	case "daily":
		w.Row("dia", "conversas", "leads")
		for _, p := range d.DailySeries() {
			w.Row(w.Date(p.Day), w.Int(p.Conversations), w.Int(p.Leads))
		}
	case "funnel":
		w.Row("etapa", "conversas")
		w.Row("conversas", w.Float(k.Conversations.Cur))
		w.Row("leads", w.Float(k.Leads.Cur))
		w.Row("visitas_agendadas", w.Float(k.Visits.Cur))
		w.Row("matriculas", w.Float(k.Conversions.Cur))
	case "first-reply":
		w.Row("faixa", "conversas")
		for i, n := range d.FRTCounts() {
			w.Row(FRTBuckets[i], w.Int(n))
		}
	case "heatmap":
		w.Row("dia_da_semana", "hora", "conversas")
		grid, _ := d.HeatmapGrid()
		for dow := range grid {
			for h := range grid[dow] {
				w.Row(Weekdays[dow], strconv.Itoa(h), w.Int(grid[dow][h]))
			}
		}
	case "inboxes":
		w.Row("caixa_id", "caixa", "canal", "conversas", "leads", "visitas", "matriculas", "leads_sem_resposta", "primeira_resposta_mediana_s")
		for _, r := range d.ByInbox {
			w.Row(strconv.Itoa(int(r.InboxID)), d.InboxName(r.InboxID), r.ChannelType, w.Int(r.Conversations),
				w.Int(r.Leads), w.Int(r.Visits), w.Int(r.Conversions), w.Int(r.UnansweredLeads), w.Float(opt(r.FirstReplyP50)))
		}
	case "labels":
		w.Row("etiqueta", "conversas", "leads", "matriculas")
		for _, r := range d.ByLabel {
			w.Row(r.Label, w.Int(r.Conversations), w.Int(r.Leads), w.Int(r.Conversions))
		}
	case "csat":
		w.Row("nota", "respostas")
		for i, n := range d.CSATCounts() {
			w.Row(strconv.Itoa(i+1), w.Int(n))
		}
	default:
		return apperr.New(apperr.NotFound, "Gráfico desconhecido: %q.", clip(name))
	}
	return w.Flush()
}
