package web

// The words of alerts (docs/alerts.md): the settings and the delivery log; merged into the
// catalog at start-up.
func init() {
	for lang, m := range map[string]map[string]string{
		langPT: {
			"alerts.title":    "Alertas",
			"alerts.intro":    "Avisos por e-mail e webhook quando alguém espera demais por uma pessoa. Cada alerta sai uma vez por conversa, condição e espera, logo após a sincronização.",
			"alerts.settings": "Configuração", "alerts.when": "Quando avisar", "alerts.where": "Para onde",
			"alerts.sla":         "Conversa aguardando atendimento passou do SLA",
			"alerts.sla_help":    "Meta atual: %s em horário de atendimento (muda em Configurações → Atendimento). Só avisa com a caixa de entrada aberta: fora do horário o tempo não corre.",
			"alerts.window":      "Janela do WhatsApp fechando sem resposta",
			"alerts.window_help": "Faltam menos de 2 horas para a janela de 24 horas fechar e o contato ainda aguarda uma pessoa. Avisa a qualquer hora.",
			"alerts.emails":      "E-mails", "alerts.emails_help": "Até 20 endereços, um por linha ou separados por vírgula.",
			"alerts.no_mail":      "O envio de e-mail não está configurado neste servidor: por enquanto, só o webhook recebe.",
			"alerts.webhook":      "Webhook (https)",
			"alerts.webhook_help": "Recebe um POST em JSON a cada alerta. Precisa ser https e não pode apontar para endereços privados, locais ou de loopback.",
			"alerts.secret":       "Chave de assinatura", "alerts.new_secret": "Gerar uma nova chave ao salvar (a atual deixa de valer)",
			"alerts.secret_help": "Cada envio leva X-GeniAI-Signature: sha256= HMAC-SHA256 desta chave sobre \"timestamp.event_id.corpo\" (cabeçalhos X-GeniAI-Timestamp e X-GeniAI-Event-Id). Recuse assinaturas erradas, horários distantes e event_id repetidos.",
			"alerts.log":         "Entregas", "alerts.log_help": "Os últimos 100 envios, do mais recente ao mais antigo. Webhooks que falham são repetidos com intervalo crescente (1, 2, 4… minutos, até 8 tentativas).",
			"alerts.none":     "Nenhum alerta enviado ainda.",
			"alerts.col.when": "Quando", "alerts.col.alert": "Alerta", "alerts.col.conversation": "Conversa", "alerts.col.to": "Destino",
			"alerts.col.status": "Situação", "alerts.col.attempts": "Tentativas",
			"alerts.kind.sla": "Passou do SLA", "alerts.kind.window": "Janela fechando",
			"alerts.channel.email": "E-mail", "alerts.channel.webhook": "Webhook",
			"alerts.status.queued": "Na fila", "alerts.status.sending": "Enviando", "alerts.status.delivered": "Entregue", "alerts.status.failed": "Falhou",
		},
		langEN: {
			"alerts.title":    "Alerts",
			"alerts.intro":    "E-mail and webhook notices when someone waits too long for a person. Each alert goes out once per conversation, condition and wait, right after the sync.",
			"alerts.settings": "Settings", "alerts.when": "When", "alerts.where": "Where to",
			"alerts.sla":         "A conversation awaiting an agent passed the SLA",
			"alerts.sla_help":    "Current target: %s of business hours (change it under Settings → Service). Only while the inbox is open: business time stands still otherwise.",
			"alerts.window":      "WhatsApp window closing unanswered",
			"alerts.window_help": "Less than 2 hours left in the 24-hour window and the contact still awaits a person. Any hour.",
			"alerts.emails":      "E-mail addresses", "alerts.emails_help": "Up to 20 addresses, one per line or separated by commas.",
			"alerts.no_mail":      "Outgoing e-mail is not configured on this server: for now only the webhook receives alerts.",
			"alerts.webhook":      "Webhook (https)",
			"alerts.webhook_help": "Receives a JSON POST for each alert. It must be https and may not point at private, local or loopback addresses.",
			"alerts.secret":       "Signing key", "alerts.new_secret": "Generate a new key on save (the current one stops working)",
			"alerts.secret_help": "Every delivery carries X-GeniAI-Signature: sha256= HMAC-SHA256 with this key over \"timestamp.event_id.body\" (headers X-GeniAI-Timestamp and X-GeniAI-Event-Id). Refuse bad signatures, distant timestamps and repeated event ids.",
			"alerts.log":         "Deliveries", "alerts.log_help": "The latest 100 deliveries, newest first. Failed webhooks are retried with growing delays (1, 2, 4… minutes, up to 8 attempts).",
			"alerts.none":     "No alert sent yet.",
			"alerts.col.when": "When", "alerts.col.alert": "Alert", "alerts.col.conversation": "Conversation", "alerts.col.to": "To",
			"alerts.col.status": "Status", "alerts.col.attempts": "Attempts",
			"alerts.kind.sla": "Past SLA", "alerts.kind.window": "Window closing",
			"alerts.channel.email": "E-mail", "alerts.channel.webhook": "Webhook",
			"alerts.status.queued": "Queued", "alerts.status.sending": "Sending", "alerts.status.delivered": "Delivered", "alerts.status.failed": "Failed",
		},
	} {
		for k, v := range m {
			catalog[lang][k] = v
		}
	}
}
