package web

// The words of the .xlsx exports: sheet names, column titles (keyed by the CSV's column key),
// the header block and full weekday names, merged into the catalog at start-up.
func init() {
	for lang, m := range map[string]map[string]string{
		langPT: {
			"export.download": "Excel (.xlsx)", "export.csv": "CSV",
			"export.sheet.conversations": "Conversas", "export.sheet.kpis": "Indicadores", "export.sheet.daily": "Conversas por dia",
			"export.sheet.funnel": "Funil", "export.sheet.first-reply": "Primeira resposta", "export.sheet.heatmap": "Dia e hora",
			"export.sheet.inboxes": "Caixas de entrada", "export.sheet.labels": "Etiquetas", "export.sheet.csat": "CSAT",
			"export.sheet.audit":  "Auditoria",
			"export.about.tenant": "Cliente", "export.about.period": "Período", "export.about.compared": "Comparado com",
			"export.about.filters": "Filtros", "export.about.generated": "Gerado em", "export.about.note": "Observação",
			"export.about.to": "a", "export.about.no_filters": "Nenhum (todas as conversas do período)",
			"export.about.weekday": "Dia da semana", "export.about.hour": "Hora",
			"export.weekday.0": "Domingo", "export.weekday.1": "Segunda", "export.weekday.2": "Terça", "export.weekday.3": "Quarta",
			"export.weekday.4": "Quinta", "export.weekday.5": "Sexta", "export.weekday.6": "Sábado",
			// The conversation list.
			"export.conversa_id": "ID da conversa", "export.numero": "Nº no Chatwoot", "export.caixa_id": "Caixa de entrada",
			"export.canal": "Canal", "export.situacao": "Situação", "export.contato": "Contato", "export.telefone": "Telefone",
			"export.etiquetas": "Etiquetas", "export.criada_em": "Criada em", "export.ultima_atividade": "Última atividade",
			"export.msgs_contato": "Mensagens do contato", "export.msgs_bot": "Mensagens do bot",
			"export.msgs_humano": "Mensagens de atendentes", "export.primeira_resposta_s": "1ª resposta (tempo)",
			"export.primeira_resposta_humana_s": "1ª resposta humana (tempo)", "export.resolucao_s": "Tempo de resolução",
			"export.sem_resposta": "Sem resposta", "export.resolvida": "Resolvida", "export.transbordo": "Transbordo bot → humano",
			"export.resolvida_pelo_bot": "Resolvida pelo bot", "export.csat": "Nota CSAT", "export.lead": "Lead",
			"export.visita_agendada": "Visita agendada", "export.matriculado": "Matrícula",
			// The chart tables.
			"export.indicador": "Indicador", "export.valor": "Valor", "export.periodo_anterior": "Período anterior",
			"export.variacao": "Variação", "export.dia": "Dia", "export.conversas": "Conversas", "export.leads": "Leads",
			"export.etapa": "Etapa", "export.faixa": "1ª resposta em", "export.dia_da_semana": "Dia da semana", "export.hora": "Hora",
			"export.caixa": "Caixa de entrada", "export.visitas": "Visitas agendadas", "export.matriculas": "Matrículas",
			"export.leads_sem_resposta": "Leads sem resposta", "export.primeira_resposta_mediana_s": "1ª resposta (mediana)",
			"export.etiqueta": "Etiqueta", "export.nota": "Nota", "export.respostas": "Respostas",
			// The audit log.
			"export.audit.quando": "Quando", "export.audit.cliente": "Cliente", "export.audit.ator": "Quem",
			"export.audit.papel": "Papel", "export.audit.acao": "Ação", "export.audit.entidade": "Entidade", "export.audit.id": "ID",
			"export.audit.antes": "Antes", "export.audit.depois": "Depois", "export.audit.ip": "IP", "export.audit.navegador": "Navegador",
		},
		langEN: {
			"export.download": "Excel (.xlsx)", "export.csv": "CSV",
			"export.sheet.conversations": "Conversations", "export.sheet.kpis": "KPIs", "export.sheet.daily": "Conversations per day",
			"export.sheet.funnel": "Funnel", "export.sheet.first-reply": "First reply", "export.sheet.heatmap": "Weekday and hour",
			"export.sheet.inboxes": "Inboxes", "export.sheet.labels": "Labels", "export.sheet.csat": "CSAT",
			"export.sheet.audit":  "Audit log",
			"export.about.tenant": "Client", "export.about.period": "Period", "export.about.compared": "Compared with",
			"export.about.filters": "Filters", "export.about.generated": "Generated at", "export.about.note": "Note",
			"export.about.to": "to", "export.about.no_filters": "None (every conversation of the period)",
			"export.about.weekday": "Weekday", "export.about.hour": "Hour",
			"export.weekday.0": "Sunday", "export.weekday.1": "Monday", "export.weekday.2": "Tuesday", "export.weekday.3": "Wednesday",
			"export.weekday.4": "Thursday", "export.weekday.5": "Friday", "export.weekday.6": "Saturday",
			"export.conversa_id": "Conversation ID", "export.numero": "Chatwoot #", "export.caixa_id": "Inbox",
			"export.canal": "Channel", "export.situacao": "Status", "export.contato": "Contact", "export.telefone": "Phone",
			"export.etiquetas": "Labels", "export.criada_em": "Created at", "export.ultima_atividade": "Last activity",
			"export.msgs_contato": "Contact messages", "export.msgs_bot": "Bot messages",
			"export.msgs_humano": "Agent messages", "export.primeira_resposta_s": "First reply time",
			"export.primeira_resposta_humana_s": "First human reply time", "export.resolucao_s": "Resolution time",
			"export.sem_resposta": "Unanswered", "export.resolvida": "Resolved", "export.transbordo": "Bot → human handoff",
			"export.resolvida_pelo_bot": "Resolved by the bot", "export.csat": "CSAT rating", "export.lead": "Lead",
			"export.visita_agendada": "Visit scheduled", "export.matriculado": "Signed up",
			"export.indicador": "KPI", "export.valor": "Value", "export.periodo_anterior": "Previous period",
			"export.variacao": "Change", "export.dia": "Day", "export.conversas": "Conversations", "export.leads": "Leads",
			"export.etapa": "Stage", "export.faixa": "First reply within", "export.dia_da_semana": "Weekday", "export.hora": "Hour",
			"export.caixa": "Inbox", "export.visitas": "Visits scheduled", "export.matriculas": "Sign-ups",
			"export.leads_sem_resposta": "Unanswered leads", "export.primeira_resposta_mediana_s": "First reply (median)",
			"export.etiqueta": "Label", "export.nota": "Rating", "export.respostas": "Responses",
			"export.audit.quando": "When", "export.audit.cliente": "Client", "export.audit.ator": "Who",
			"export.audit.papel": "Role", "export.audit.acao": "Action", "export.audit.entidade": "Entity", "export.audit.id": "ID",
			"export.audit.antes": "Before", "export.audit.depois": "After", "export.audit.ip": "IP", "export.audit.navegador": "Browser",
		},
	} {
		for k, v := range m {
			catalog[lang][k] = v
		}
	}
}
