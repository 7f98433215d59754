package dashboard

import (
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/sheet"
)

// The exports: the conversation list and the data behind every chart as typed tables (package
// sheet), written as CSV for machines or .xlsx for people. Column keys are the CSV's stable
// machine names; titles and the names of statuses, weekdays and indicators come from tr, the
// caller's message catalogue in the reader's language (keys export.*, kpi.*, status.*).

// Translate looks a message key up in the reader's language.
type Translate func(key string) string

// StatusNames are the CSV's codes of Chatwoot statuses (pt-BR words, kept for machines).
var StatusNames = map[int16]string{0: "aberta", 1: "resolvida", 2: "pendente", 3: "adiada"}

// statusKeys are the catalogue keys of the statuses, by code.
var statusKeys = map[int16]string{0: "status.open", 1: "status.resolved", 2: "status.pending", 3: "status.snoozed"}

// ChannelName is the name people know a Chatwoot channel type by ("Channel::Whatsapp" is
// WhatsApp).
func ChannelName(t string) string {
	switch t {
	case "Channel::Whatsapp":
		return "WhatsApp"
	case "Channel::Instagram":
		return "Instagram"
	case "Channel::FacebookPage":
		return "Facebook"
	case "Channel::WebWidget":
		return "Site (widget)"
	case "Channel::Api":
		return "API"
	case "Channel::Telegram":
		return "Telegram"
	case "Channel::Email":
		return "E-mail"
	case "Channel::Sms", "Channel::TwilioSms":
		return "SMS"
	case "Channel::Line":
		return "LINE"
	}
	return strings.TrimPrefix(t, "Channel::")
}

func col(tr Translate, key string, k sheet.Kind) sheet.Column {
	return sheet.Column{Key: key, Title: tr("export." + key), Kind: k}
}

// ConversationExport turns conversations into rows of the conversation export, one row per
// conversation.
type ConversationExport struct {
	Columns []sheet.Column
	inboxes map[int32]string
	status  map[int16]string
	sla     map[string]string
	vals    []sheet.Value
}

// SLANames are the CSV's codes of a first wait's SLA state (pt-BR words, kept for machines).
var SLANames = map[string]string{"within": "dentro", "missed": "perdido"}

// slaKeys are the catalogue keys of the SLA states.
var slaKeys = map[string]string{"within": "sla.within", "missed": "sla.missed"}

func optTime(t *time.Time) sheet.Value {
	if t == nil {
		return sheet.Null
	}
	return sheet.Time(*t)
}

// NewConversationExport prepares the export of tenant t's conversations.
func NewConversationExport(t *Tenant, tr Translate) *ConversationExport {
	e := &ConversationExport{inboxes: map[int32]string{}, status: map[int16]string{}, sla: map[string]string{}}
	for _, ib := range t.Inboxes {
		e.inboxes[ib.InboxID] = ib.InboxName
	}
	for code, key := range statusKeys {
		e.status[code] = tr(key)
	}
	e.Columns = []sheet.Column{
		col(tr, "conversa_id", sheet.Code), col(tr, "numero", sheet.Code), col(tr, "caixa_id", sheet.Code),
		col(tr, "canal", sheet.Text), col(tr, "situacao", sheet.Text), col(tr, "contato", sheet.Text),
		col(tr, "telefone", sheet.Code), col(tr, "etiquetas", sheet.Text),
		col(tr, "criada_em", sheet.DateTime), col(tr, "ultima_atividade", sheet.DateTime),
		col(tr, "msgs_contato", sheet.Count), col(tr, "msgs_bot", sheet.Count), col(tr, "msgs_humano", sheet.Count),
		col(tr, "primeira_resposta_s", sheet.Duration), col(tr, "primeira_resposta_humana_s", sheet.Duration),
		col(tr, "resolucao_s", sheet.Duration),
		col(tr, "sem_resposta", sheet.YesNo), col(tr, "resolvida", sheet.YesNo), col(tr, "transbordo", sheet.YesNo),
		col(tr, "resolvida_pelo_bot", sheet.YesNo), col(tr, "csat", sheet.Count),
		col(tr, "lead", sheet.YesNo), col(tr, "visita_agendada", sheet.YesNo), col(tr, "matriculado", sheet.YesNo),
		// speed to lead (docs/metrics.md): business-time twins, the request for a person, the first
		// wait for a person and its SLA, the queue and the WhatsApp window
		col(tr, "primeira_resposta_comercial_s", sheet.Duration), col(tr, "primeira_resposta_humana_comercial_s", sheet.Duration),
		col(tr, "resolucao_comercial_s", sheet.Duration), col(tr, "pedido_de_atendente_em", sheet.DateTime),
		col(tr, "espera_por_atendente_s", sheet.Duration), col(tr, "espera_por_atendente_comercial_s", sheet.Duration),
		col(tr, "sla", sheet.Text), col(tr, "aguardando_desde", sheet.DateTime), col(tr, "janela_whatsapp_fecha_em", sheet.DateTime),
	}
	for code, key := range slaKeys {
		e.sla[code] = tr(key)
	}
	e.vals = make([]sheet.Value, len(e.Columns))
	return e
}

// Values is one conversation's row (the slice is reused by the next call).
func (e *ConversationExport) Values(r dbsqlc.ConversationPageRow) []sheet.Value {
	inbox := e.inboxes[r.InboxID]
	if inbox == "" {
		inbox = "Caixa " + strconv.Itoa(int(r.InboxID))
	}
	csat := sheet.Null
	if r.CsatRating != nil {
		csat = sheet.Int(int64(*r.CsatRating))
	}
	v := e.vals
	v[0], v[1] = sheet.Int(int64(r.ConversationID)), sheet.Int(int64(r.DisplayID))
	v[2] = sheet.Labeled(strconv.Itoa(int(r.InboxID)), inbox)
	v[3] = sheet.Labeled(r.ChannelType, ChannelName(r.ChannelType))
	v[4] = sheet.Labeled(StatusNames[r.Status], e.status[r.Status])
	v[5], v[6], v[7] = sheet.Str(r.ContactName), sheet.Str(r.ContactPhone), sheet.Str(strings.Join(r.Labels, ", "))
	v[8], v[9] = sheet.Time(r.CreatedAt), sheet.Time(r.LastActivityAt)
	v[10], v[11], v[12] = sheet.Int(int64(r.ContactMessages)), sheet.Int(int64(r.BotMessages)), sheet.Int(int64(r.HumanMessages))
	v[13], v[14], v[15] = sheet.NumPtr(r.FirstReplySeconds), sheet.NumPtr(r.FirstHumanReplySeconds), sheet.NumPtr(r.ResolutionSeconds)
	v[16], v[17], v[18], v[19] = sheet.Bool(r.Unanswered), sheet.Bool(r.Resolved), sheet.Bool(r.Handoff), sheet.Bool(r.BotResolved)
	v[20] = csat
	v[21], v[22], v[23] = sheet.Bool(r.IsLead), sheet.Bool(r.IsVisit), sheet.Bool(r.IsConverted)
	v[24], v[25] = sheet.NumPtr(r.FirstReplyBusinessSeconds), sheet.NumPtr(r.FirstHumanReplyBusinessSeconds)
	v[26], v[27] = sheet.NumPtr(r.ResolutionBusinessSeconds), optTime(r.HandoffRequestedAt)
	v[28], v[29] = sheet.NumPtr(r.HumanWaitSeconds), sheet.NumPtr(r.HumanWaitBusinessSeconds)
	v[30] = sheet.Null
	if r.Sla != "" {
		v[30] = sheet.Labeled(SLANames[r.Sla], e.sla[r.Sla])
	}
	v[31], v[32] = optTime(r.WaitingSince), optTime(r.WindowClosesAt)
	return v
}

// Charts are the names of the chart exports.
var Charts = []string{"kpis", "daily", "funnel", "first-reply", "heatmap", "inboxes", "labels", "csat"}

// ChartTable is the data behind one chart (or the KPIs): its columns and rows.
func (d *Dashboard) ChartTable(name string, tr Translate) ([]sheet.Column, [][]sheet.Value, error) {
	k := d.KPIs
	var cols []sheet.Column
	var rows [][]sheet.Value
	add := func(vals ...sheet.Value) { rows = append(rows, vals) }
	count := func(n int64) sheet.Value { return sheet.Int(n) }
	switch name {
	case "kpis":
		cols = []sheet.Column{col(tr, "indicador", sheet.Text), col(tr, "valor", sheet.Decimal),
			col(tr, "periodo_anterior", sheet.Decimal), col(tr, "variacao", sheet.Percent)}
		for _, m := range []struct {
			code, key string
			kind      sheet.Kind
			v         Value
		}{
			{"conversas", "conversations", sheet.Count, k.Conversations}, {"leads", "leads", sheet.Count, k.Leads},
			{"visitas_agendadas", "visits", sheet.Count, k.Visits}, {"matriculas", "conversions", sheet.Count, k.Conversions},
			{"taxa_lead_visita", "lead_to_visit", sheet.Percent, k.LeadToVisit},
			{"taxa_visita_matricula", "visit_to_conversion", sheet.Percent, k.VisitToConversion},
			{"leads_sem_resposta", "unanswered_leads", sheet.Count, k.UnansweredLeads},
			{"primeira_resposta_mediana_s", "first_reply_p50", sheet.Duration, k.FirstReplyP50},
			{"primeira_resposta_p90_s", "first_reply_p90", sheet.Duration, k.FirstReplyP90},
			{"primeira_resposta_humana_mediana_s", "first_human_reply_p50", sheet.Duration, k.FirstHumanReplyP50},
			{"primeira_resposta_humana_p90_s", "first_human_reply_p90", sheet.Duration, k.FirstHumanReplyP90},
			{"taxa_resolucao", "resolution_rate", sheet.Percent, k.ResolutionRate},
			{"resolucao_mediana_s", "resolution_p50", sheet.Duration, k.ResolutionP50},
			{"parcela_resolvida_pelo_bot", "bot_resolved_share", sheet.Percent, k.BotResolvedShare},
			{"taxa_transbordo", "handoff_rate", sheet.Percent, k.HandoffRate},
			{"csat_satisfacao", "csat_satisfaction", sheet.Percent, k.CSATSatisfaction},
			{"csat_respostas", "csat_responses", sheet.Count, k.CSATResponses},
			{"pedidos_de_atendente", "handoff_requests", sheet.Count, k.HandoffRequests},
			{"espera_por_atendente_mediana_s", "human_wait_p50", sheet.Duration, k.HumanWaitP50},
			{"espera_por_atendente_p90_s", "human_wait_p90", sheet.Duration, k.HumanWaitP90},
			{"dentro_do_sla", "sla_within_share", sheet.Percent, k.SLAWithinShare},
			{"sla_dentro", "sla_within", sheet.Count, k.SLAWithin},
			{"sla_perdido", "sla_missed", sheet.Count, k.SLAMissed},
		} {
			change := sheet.Null
			if c := m.v.Change(); c != nil {
				change = sheet.Num(*c / 100)
			}
			add(sheet.Labeled(m.code, tr("kpi."+m.key)), sheet.NumPtr(m.v.Cur).As(m.kind), sheet.NumPtr(m.v.Prev).As(m.kind), change)
		}
	case "daily":
		cols = []sheet.Column{col(tr, "dia", sheet.Date), col(tr, "conversas", sheet.Count), col(tr, "leads", sheet.Count)}
		var inboxes []int32
		if d.Filter.Stacked { // the chart is split by inbox: so is its table, a column per inbox
			for _, ib := range d.Inboxes {
				inboxes = append(inboxes, ib.InboxID)
				cols = append(cols, sheet.Column{Key: "caixa_" + strconv.Itoa(int(ib.InboxID)), Title: d.InboxName(ib.InboxID), Kind: sheet.Count})
			}
		}
		for _, p := range d.DailySeries() {
			r := []sheet.Value{sheet.Time(p.Day), count(p.Conversations), count(p.Leads)}
			for _, id := range inboxes {
				r = append(r, count(p.ByInbox[id]))
			}
			add(r...)
		}
	case "funnel":
		cols = []sheet.Column{col(tr, "etapa", sheet.Text), col(tr, "conversas", sheet.Count)}
		add(sheet.Labeled("conversas", tr("kpi.conversations")), sheet.NumPtr(k.Conversations.Cur))
		add(sheet.Labeled("leads", tr("kpi.leads")), sheet.NumPtr(k.Leads.Cur))
		add(sheet.Labeled("visitas_agendadas", tr("kpi.visits")), sheet.NumPtr(k.Visits.Cur))
		add(sheet.Labeled("matriculas", tr("kpi.conversions")), sheet.NumPtr(k.Conversions.Cur))
	case "first-reply":
		cols = []sheet.Column{col(tr, "faixa", sheet.Text), col(tr, "conversas", sheet.Count)}
		for i, n := range d.FRTCounts() {
			add(sheet.Str(FRTBuckets[i]), count(n))
		}
	case "heatmap":
		cols = []sheet.Column{col(tr, "dia_da_semana", sheet.Text), col(tr, "hora", sheet.Count), col(tr, "conversas", sheet.Count)}
		grid, _ := d.HeatmapGrid()
		for dow := range grid {
			day := sheet.Labeled(Weekdays[dow], tr("export.weekday."+strconv.Itoa(dow)))
			for h := range grid[dow] {
				add(day, count(int64(h)), count(grid[dow][h]))
			}
		}
	case "inboxes":
		id := col(tr, "caixa_id", sheet.Code)
		id.CSVOnly = true // the name says it to people
		cols = []sheet.Column{id, col(tr, "caixa", sheet.Text), col(tr, "canal", sheet.Text),
			col(tr, "conversas", sheet.Count), col(tr, "leads", sheet.Count), col(tr, "visitas", sheet.Count),
			col(tr, "matriculas", sheet.Count), col(tr, "leads_sem_resposta", sheet.Count),
			col(tr, "primeira_resposta_mediana_s", sheet.Duration)}
		for _, r := range d.ByInbox {
			add(sheet.Int(int64(r.InboxID)), sheet.Str(d.InboxName(r.InboxID)), sheet.Labeled(r.ChannelType, ChannelName(r.ChannelType)),
				count(r.Conversations), count(r.Leads), count(r.Visits), count(r.Conversions), count(r.UnansweredLeads),
				sheet.NumPtr(opt(r.FirstReplyP50)))
		}
	case "labels":
		cols = []sheet.Column{col(tr, "etiqueta", sheet.Text), col(tr, "conversas", sheet.Count),
			col(tr, "leads", sheet.Count), col(tr, "matriculas", sheet.Count)}
		for _, r := range d.ByLabel {
			add(sheet.Str(r.Label), count(r.Conversations), count(r.Leads), count(r.Conversions))
		}
	case "csat":
		cols = []sheet.Column{col(tr, "nota", sheet.Count), col(tr, "respostas", sheet.Count)}
		for i, n := range d.CSATCounts() {
			add(count(int64(i+1)), count(n))
		}
	default:
		return nil, nil, apperr.New(apperr.NotFound, "err.chart.unknown", clip(name))
	}
	return cols, rows, nil
}
