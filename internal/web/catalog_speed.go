package web

// The words of speed to lead (docs/metrics.md): business hours, requests for a person, the first
// wait for a person and its SLA, the queue and the WhatsApp window; merged into the catalog at
// start-up.
func init() {
	for lang, m := range map[string]map[string]string{
		langPT: {
			"kpi.handoff_requests": "Pedidos de atendente", "kpi.human_wait_p50": "Espera por atendente (mediana)",
			"kpi.human_wait_p90": "Espera por atendente (p90)", "kpi.sla_within_share": "Dentro do SLA",
			"kpi.sla_within": "Atendidas dentro do SLA", "kpi.sla_missed": "Fora do SLA",
			"sla.within": "Dentro do SLA", "sla.missed": "Fora do SLA",
			"export.primeira_resposta_comercial_s":        "1ª resposta em horário de atendimento",
			"export.primeira_resposta_humana_comercial_s": "1ª resposta humana em horário de atendimento",
			"export.resolucao_comercial_s":                "Resolução em horário de atendimento", "export.pedido_de_atendente_em": "Pedido de atendente em",
			"export.espera_por_atendente_s":           "Espera por atendente (tempo)",
			"export.espera_por_atendente_comercial_s": "Espera por atendente em horário de atendimento",
			"export.sla": "SLA", "export.aguardando_desde": "Aguardando atendimento desde",
			"export.janela_whatsapp_fecha_em": "Janela do WhatsApp fecha em",
			"nav.queue":                       "Aguardando atendimento", "queue.title": "Aguardando atendimento",
			"queue.as_of": "Situação na última sincronização:", "queue.never_synced": "Ainda não sincronizado: a fila aparece após a primeira sincronização.",
			"queue.sla": "SLA:", "queue.business_time": "em horário de atendimento",
			"queue.state": "Situação", "queue.state.past_sla": "Passou do SLA", "queue.state.window_closing": "Janela fechando",
			"queue.state.window_closed": "Janela encerrada",
			"queue.col.wait":            "Aguardando há", "queue.col.window": "Janela do WhatsApp", "queue.col.last_message": "Última mensagem do contato",
			"queue.col.open": "Abrir", "queue.past_sla": "passou do SLA", "queue.since": "desde", "queue.handoff": "pedido de atendente",
			"queue.window.closes_in": "fecha em %s", "queue.window.closed": "janela encerrada",
			"queue.message_deleted": "(mensagem apagada)", "queue.open_chatwoot": "Abrir no Chatwoot",
			"kpi.awaiting": "Aguardando atendimento", "kpi.awaiting.past_sla": "passaram do SLA", "kpi.awaiting.now": "agora, qualquer período",
			"filter.business": "Só horário de atendimento", "filter.business.help": "Conta os tempos só dentro do horário de atendimento de cada caixa de entrada",
			"dashboard.business_note": "Tempos contados só dentro do horário de atendimento de cada caixa de entrada.",
			"flag.handoff_requested":  "Pedido de atendente", "flag.human_wait": "Espera por atendente respondida", "flag.sla": "Com SLA medido",
			"flag.sla_within": "Dentro do SLA", "flag.sla_missed": "Fora do SLA",
			"metric.in_business_hours": "em horário de atendimento", "metric.handoff_requested": "Pedido de atendente",
			"metric.human_wait": "Espera por atendente", "metric.human_wait.unanswered": "sem resposta desde",
			"settings.excluded": "Nunca são leads", "settings.excluded_help": "Conversas com qualquer destas etiquetas ficam fora do funil (não contam como lead, visita nem matrícula), por exemplo cancelamento, reclamacao ou aluno.",
			"settings.sla": "Atendimento", "settings.sla_minutes": "Meta de SLA (minutos em horário de atendimento)",
			"settings.sla_help": "Tempo máximo para uma pessoa responder depois do pedido de atendente do bot (ou da primeira mensagem, sem bot), contado só no horário de atendimento de cada caixa. Mudanças valem para todo o histórico na próxima sincronização.",
			"queue.none":        "Ninguém aguardando atendimento.", "queue.none.hint": "Conversas abertas em que o contato escreveu depois da última resposta de uma pessoa aparecem aqui, da espera mais antiga para a mais recente.",
		},
		langEN: {
			"kpi.handoff_requests": "Requests for an agent", "kpi.human_wait_p50": "Wait for an agent (median)",
			"kpi.human_wait_p90": "Wait for an agent (p90)", "kpi.sla_within_share": "Within SLA",
			"kpi.sla_within": "Answered within SLA", "kpi.sla_missed": "SLA missed",
			"sla.within": "Within SLA", "sla.missed": "SLA missed",
			"export.primeira_resposta_comercial_s":        "First reply in business hours",
			"export.primeira_resposta_humana_comercial_s": "First human reply in business hours",
			"export.resolucao_comercial_s":                "Resolution in business hours", "export.pedido_de_atendente_em": "Agent requested at",
			"export.espera_por_atendente_s":           "Wait for an agent",
			"export.espera_por_atendente_comercial_s": "Wait for an agent in business hours",
			"export.sla": "SLA", "export.aguardando_desde": "Awaiting an agent since",
			"export.janela_whatsapp_fecha_em": "WhatsApp window closes at",
			"nav.queue":                       "Awaiting an agent", "queue.title": "Awaiting an agent",
			"queue.as_of": "As of the last sync:", "queue.never_synced": "Not synced yet: the queue appears after the first sync.",
			"queue.sla": "SLA:", "queue.business_time": "in business hours",
			"queue.state": "State", "queue.state.past_sla": "Past SLA", "queue.state.window_closing": "Window closing",
			"queue.state.window_closed": "Window closed",
			"queue.col.wait":            "Waiting for", "queue.col.window": "WhatsApp window", "queue.col.last_message": "Contact's last message",
			"queue.col.open": "Open", "queue.past_sla": "past SLA", "queue.since": "since", "queue.handoff": "agent requested",
			"queue.window.closes_in": "closes in %s", "queue.window.closed": "window closed",
			"queue.message_deleted": "(message deleted)", "queue.open_chatwoot": "Open in Chatwoot",
			"kpi.awaiting": "Awaiting an agent", "kpi.awaiting.past_sla": "past SLA", "kpi.awaiting.now": "now, any period",
			"filter.business": "Business hours only", "filter.business.help": "Counts times only inside each inbox's business hours",
			"dashboard.business_note": "Times counted only inside each inbox's business hours.",
			"flag.handoff_requested":  "Agent requested", "flag.human_wait": "Wait for an agent answered", "flag.sla": "SLA measured",
			"flag.sla_within": "Within SLA", "flag.sla_missed": "SLA missed",
			"metric.in_business_hours": "in business hours", "metric.handoff_requested": "Agent requested",
			"metric.human_wait": "Wait for an agent", "metric.human_wait.unanswered": "unanswered since",
			"settings.excluded": "Never leads", "settings.excluded_help": "Conversations with any of these labels stay out of the funnel (not a lead, visit or sign-up), for example cancelamento, reclamacao or aluno.",
			"settings.sla": "Service", "settings.sla_minutes": "SLA target (minutes of business hours)",
			"settings.sla_help": "How long a person may take to answer after the bot asks for an agent (or after the first message, without a bot), counted only in each inbox's business hours. Changes apply to the whole history at the next sync.",
			"queue.none":        "Nobody is waiting for an agent.", "queue.none.hint": "Open conversations whose contact wrote after the last reply from a person show up here, the longest wait first.",
		},
	} {
		for k, v := range m {
			catalog[lang][k] = v
		}
	}
}
