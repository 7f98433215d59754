package web

import "time"

// The staff panel's words for the reader's clock, ETL health and the zone setting, merged into
// the catalog at start-up.
func init() {
	for lang, m := range map[string]map[string]string{
		langPT: {
			"admin.clock_note":     "Números de cada cliente no dia de hoje do fuso do cliente, como no painel dele. Horários mostrados no seu fuso:",
			"admin.clock_change":   "alterar",
			"admin.reason.stale":   "última sincronização bem-sucedida em",
			"admin.reason.never":   "caixas vinculadas, nenhuma sincronização concluída ainda",
			"admin.reason.failing": "a última execução falhou em",
			"zone.title":           "Fuso horário",
			"zone.hint":            "Datas e horas do painel são mostradas neste fuso. Digite para procurar: cidade, estado ou nome IANA.",
			"zone.save":            "Salvar fuso",
			"zone.saved":           "Fuso horário salvo.",
			"zone.invalid":         "Fuso horário desconhecido. Escolha um da lista (por exemplo, Brasília ou America/Manaus).",
			"zone.current":         "Agora",
			"time.day":             "dia",
			"synchart.title":       "Sincronização nas últimas 24 horas", "synchart.lag": "Atraso: tempo desde a verificação bem-sucedida anterior (segundos), por execução",
			"synchart.duration": "Duração de cada execução (milissegundos); falhas na outra cor",
			"clients.title":     "Comparativo de clientes", "clients.tab": "Comparativo",
			"clients.note":       "Cada cliente no seu próprio calendário (últimos dias até hoje no fuso do cliente), com as definições do painel dele; abaixo de cada número, a variação contra o período anterior de mesma duração. Medianas (≈) vêm dos resumos diários, como no painel para períodos longos.",
			"clients.conversion": "Conversão (matrículas ÷ leads)", "clients.human_p50": "1ª resposta humana (mediana)",
			"clients.human_p90": "1ª resposta humana (p90)", "clients.unanswered": "Leads sem resposta",
			"clients.bot_resolved": "Resolvidas pelo bot", "clients.handoff": "Transbordo bot → humano", "clients.csat": "CSAT (4–5)",
			"welcome.password_once":  "Anote ou envie agora: esta senha aparece só esta vez (ao recarregar a página ela some). Para outra, use “Gerar nova senha” na página do cliente.",
			"welcome.password_shown": "A senha do primeiro administrador já foi mostrada e não aparece de novo. Se ela se perdeu, gere outra na página do cliente.",
			"welcome.first_sync":     "Primeira sincronização",
			"welcome.starting":       "Iniciando a primeira sincronização…",
			"welcome.done":           "Primeira sincronização concluída em",
			"welcome.conversations":  "conversas",
			"welcome.failed":         "A primeira sincronização falhou:",
			"welcome.failed_hint":    "Nada foi gravado. Confira as caixas de entrada e use “Sincronizar agora” na página do cliente.",
			"welcome.tenant_page":    "Página do cliente",
			"run.running":            "em andamento", "run.succeeded": "concluída", "run.failed": "falhou", "run.stale": "interrompida",
			"run.unchanged_since": "Sem alterações desde", "run.checks": "verificações", "run.last_check": "última verificação:",
			"run.full": "carga completa", "run.nothing_new": "nada novo",
			"run.read": "lidas", "run.new": "novas", "run.updated": "atualizadas", "run.deleted": "removidas",
		},
		langEN: {
			"admin.clock_note":     "Each client's figures count up to today in the client's own timezone, as on its dashboard. Times shown in your zone:",
			"admin.clock_change":   "change",
			"admin.reason.stale":   "last successful sync at",
			"admin.reason.never":   "inboxes mapped, no sync completed yet",
			"admin.reason.failing": "the last run failed at",
			"zone.title":           "Timezone",
			"zone.hint":            "Dates and times are shown in this zone. Type to search: city, state or IANA name.",
			"zone.save":            "Save timezone",
			"zone.saved":           "Timezone saved.",
			"zone.invalid":         "Unknown timezone. Pick one from the list (for example, Brasília or America/Manaus).",
			"zone.current":         "Now",
			"time.day":             "day",
			"synchart.title":       "Sync over the last 24 hours", "synchart.lag": "Lag: time since the previous successful check (seconds), per run",
			"synchart.duration": "Duration of each run (milliseconds); failures in the other colour",
			"clients.title":     "Client comparison", "clients.tab": "Comparison",
			"clients.note":       "Each client on its own calendar (the last days up to today in the client's timezone), with its dashboard's definitions; under each figure, the change against the previous period of the same length. Medians (≈) come from the daily rollups, as on the dashboard for long periods.",
			"clients.conversion": "Conversion (enrolments ÷ leads)", "clients.human_p50": "First human reply (median)",
			"clients.human_p90": "First human reply (p90)", "clients.unanswered": "Unanswered leads",
			"clients.bot_resolved": "Resolved by the bot", "clients.handoff": "Bot → human handoff", "clients.csat": "CSAT (4–5)",
			"welcome.password_once":  "Write it down or send it now: this password is shown only this once (reloading the page hides it). For another, use “Generate new password” on the client's page.",
			"welcome.password_shown": "The first admin's password was already shown and does not appear again. If it was lost, generate another on the client's page.",
			"welcome.first_sync":     "First sync",
			"welcome.starting":       "Starting the first sync…",
			"welcome.done":           "First sync finished in",
			"welcome.conversations":  "conversations",
			"welcome.failed":         "The first sync failed:",
			"welcome.failed_hint":    "Nothing was written. Check the inboxes and use “Sync now” on the client's page.",
			"welcome.tenant_page":    "Client page",
			"run.running":            "running", "run.succeeded": "succeeded", "run.failed": "failed", "run.stale": "interrupted",
			"run.unchanged_since": "No changes since", "run.checks": "checks", "run.last_check": "last check:",
			"run.full": "full load", "run.nothing_new": "nothing new",
			"run.read": "read", "run.new": "new", "run.updated": "updated", "run.deleted": "removed",
		},
	} {
		for k, v := range m {
			catalog[lang][k] = v
		}
	}
}

// ZoneNow is the reader's zone's current offset ("UTC−3").
func (p StaffPage) ZoneNow() string { return zoneSuffix(time.Now(), p.Loc) }
