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
		},
	} {
		for k, v := range m {
			catalog[lang][k] = v
		}
	}
}
