package web

// The words of the filter chips, the volume chart's grains, the KPI hierarchy and the page's
// accessibility aids, merged into the catalog at start-up.
func init() {
	for lang, m := range map[string]map[string]string{
		langPT: {
			"a11y.skip": "Pular para o conteúdo", "a11y.skip_heatmap": "Pular o mapa de calor",
			"a11y.chart_table": "Tabela do gráfico",
			"chip.inbox":       "Caixa", "chip.first_reply": "1ª resposta", "chip.hour": "Às", "chip.csat": "CSAT", "chip.search": "Busca",
			"chip.remove": "Remover filtro", "chip.clear_all": "Limpar tudo", "chip.active": "Filtros ativos",
			"filter.show": "Filtros", "filter.hide": "Fechar filtros", "filter.custom": "Período personalizado",
			"filter.date_kept":     "Mostrando o período anterior até as datas serem corrigidas.",
			"filter.label_unknown": "Nenhuma etiqueta corresponde a “%s”; escolha uma da lista.",
			"filter.label_many":    "“%s” corresponde a mais de uma etiqueta; escolha uma:",
			"filter.ignored":       "Estes parâmetros do endereço não são filtros desta página e foram ignorados:",
			"filter.label.help":    "Digite parte do nome; maiúsculas e acentos não importam.",
			"weekday.long.0":       "Domingo", "weekday.long.1": "Segunda", "weekday.long.2": "Terça", "weekday.long.3": "Quarta",
			"weekday.long.4": "Quinta", "weekday.long.5": "Sexta", "weekday.long.6": "Sábado",
			"month.short.1": "jan", "month.short.2": "fev", "month.short.3": "mar", "month.short.4": "abr", "month.short.5": "mai", "month.short.6": "jun",
			"month.short.7": "jul", "month.short.8": "ago", "month.short.9": "set", "month.short.10": "out", "month.short.11": "nov", "month.short.12": "dez",
			"month.long.1": "janeiro de", "month.long.2": "fevereiro de", "month.long.3": "março de", "month.long.4": "abril de",
			"month.long.5": "maio de", "month.long.6": "junho de", "month.long.7": "julho de", "month.long.8": "agosto de",
			"month.long.9": "setembro de", "month.long.10": "outubro de", "month.long.11": "novembro de", "month.long.12": "dezembro de",
			"chart.volume.day": "Conversas por dia", "chart.volume.week": "Conversas por semana", "chart.volume.month": "Conversas por mês",
			"chart.grain": "Barras por", "grain.day": "dia", "grain.week": "semana", "grain.month": "mês",
			"chart.busiest": "maior volume em", "chart.week_of": "semana de %s a %s", "col.period": "Período",
			"chart.funnel.of": "de", "chart.heatmap.help": "Use as setas para andar pelas células; Enter abre as conversas.",
			"kpi.more": "Mais indicadores", "kpi.main": "Principais indicadores",
			"csat.rating": "Nota",
			"pager.range": "%s–%s de %s", "pager.prev": "Página anterior", "pager.nav": "Páginas da lista",
			"a11y.actions": "Ações", "a11y.choose": "Escolher", "a11y.account_nav": "Conta e idioma",
			"chatwoot.open": "abrir no Chatwoot", "chatwoot.open_long": "Abrir no Chatwoot", "chatwoot.new_tab": "abre em outra aba",
			"sort.by": "Ordenar por", "sort.created": "data", "sort.first_reply": "1ª resposta", "sort.first_human_reply": "1ª resposta humana", "sort.csat": "CSAT", "sort.stage": "etapa",
		},
		langEN: {
			"a11y.skip": "Skip to content", "a11y.skip_heatmap": "Skip the heatmap", "a11y.chart_table": "Chart table",
			"chip.inbox": "Inbox", "chip.first_reply": "First reply", "chip.hour": "At", "chip.csat": "CSAT", "chip.search": "Search",
			"chip.remove": "Remove filter", "chip.clear_all": "Clear all", "chip.active": "Active filters",
			"filter.show": "Filters", "filter.hide": "Close filters", "filter.custom": "Custom period",
			"filter.date_kept":     "Showing the previous period until the dates are fixed.",
			"filter.label_unknown": "No label matches “%s”; pick one from the list.",
			"filter.label_many":    "“%s” matches more than one label; pick one:",
			"filter.ignored":       "These address parameters are not filters of this page and were ignored:",
			"filter.label.help":    "Type part of the name; case and accents do not matter.",
			"weekday.long.0":       "Sunday", "weekday.long.1": "Monday", "weekday.long.2": "Tuesday", "weekday.long.3": "Wednesday",
			"weekday.long.4": "Thursday", "weekday.long.5": "Friday", "weekday.long.6": "Saturday",
			"month.short.1": "Jan", "month.short.2": "Feb", "month.short.3": "Mar", "month.short.4": "Apr", "month.short.5": "May", "month.short.6": "Jun",
			"month.short.7": "Jul", "month.short.8": "Aug", "month.short.9": "Sep", "month.short.10": "Oct", "month.short.11": "Nov", "month.short.12": "Dec",
			"month.long.1": "January", "month.long.2": "February", "month.long.3": "March", "month.long.4": "April",
			"month.long.5": "May", "month.long.6": "June", "month.long.7": "July", "month.long.8": "August",
			"month.long.9": "September", "month.long.10": "October", "month.long.11": "November", "month.long.12": "December",
			"chart.volume.day": "Conversations per day", "chart.volume.week": "Conversations per week", "chart.volume.month": "Conversations per month",
			"chart.grain": "Bars by", "grain.day": "day", "grain.week": "week", "grain.month": "month",
			"chart.busiest": "busiest", "chart.week_of": "week of %s to %s", "col.period": "Period",
			"chart.funnel.of": "of", "chart.heatmap.help": "Use the arrow keys to move between cells; Enter opens the conversations.",
			"kpi.more": "More figures", "kpi.main": "Key figures",
			"csat.rating": "Rating",
			"pager.range": "%s–%s of %s", "pager.prev": "Previous page", "pager.nav": "List pages",
			"a11y.actions": "Actions", "a11y.choose": "Choose", "a11y.account_nav": "Account and language",
			"chatwoot.open": "open in Chatwoot", "chatwoot.open_long": "Open in Chatwoot", "chatwoot.new_tab": "opens in a new tab",
			"sort.by": "Sort by", "sort.created": "date", "sort.first_reply": "first reply", "sort.first_human_reply": "first human reply", "sort.csat": "CSAT", "sort.stage": "stage",
		},
	} {
		for k, v := range m {
			catalog[lang][k] = v
		}
	}
}
