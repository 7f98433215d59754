package dashboard

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
)

// CSVFormat is the dialect of an export: plain CSV (comma, decimal point, ISO dates) or
// "Excel (pt-BR)" (semicolon, decimal comma, dd/mm/yyyy dates, a BOM so Excel reads UTF-8).
type CSVFormat struct {
	Excel bool
	Loc   *time.Location // the tenant's timezone for timestamps
}

// CSVWriter writes rows in a CSVFormat, flushing as it goes so exports stream.
type CSVWriter struct {
	f CSVFormat
	b *bufio.Writer
	w *csv.Writer
}

// NewCSVWriter starts an export on out.
func NewCSVWriter(out io.Writer, f CSVFormat) *CSVWriter {
	if f.Loc == nil {
		f.Loc = time.UTC
	}
	b := bufio.NewWriterSize(out, 64<<10)
	w := csv.NewWriter(b)
	if f.Excel {
		w.Comma = ';'
		b.WriteString("\uFEFF")
	}
	return &CSVWriter{f: f, b: b, w: w}
}

// Row writes one record; cells that a spreadsheet would run as a formula are neutralised.
func (c *CSVWriter) Row(cells ...string) error {
	for i, s := range cells {
		cells[i] = safeCell(s)
	}
	return c.w.Write(cells)
}

// Flush writes out what is buffered.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.b.Flush()
}

// Int formats a count.
func (c *CSVWriter) Int(n int64) string { return strconv.FormatInt(n, 10) }

// Float formats a measure with up to 3 decimals, with a decimal comma in the Excel dialect.
func (c *CSVWriter) Float(x *float64) string {
	if x == nil {
		return ""
	}
	s := strconv.FormatFloat(*x, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i > 4 {
		s = strconv.FormatFloat(*x, 'f', 3, 64)
	}
	if c.f.Excel {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Time formats a timestamp in the tenant's timezone.
func (c *CSVWriter) Time(t time.Time) string {
	t = t.In(c.f.Loc)
	if c.f.Excel {
		return t.Format("02/01/2006 15:04:05")
	}
	return t.Format(time.RFC3339)
}

// Date formats a day.
func (c *CSVWriter) Date(t time.Time) string {
	if c.f.Excel {
		return t.Format("02/01/2006")
	}
	return t.Format(dateLayout)
}

// Bool formats a flag as 1/0, which both dialects sum.
func (c *CSVWriter) Bool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}

// StatusNames are the pt-BR names of Chatwoot statuses, by code.
var StatusNames = map[int16]string{0: "aberta", 1: "resolvida", 2: "pendente", 3: "adiada"}

// ConversationHeader is the header of the conversation export; one row per conversation.
var ConversationHeader = []string{
	"conversa_id", "numero", "caixa_id", "canal", "situacao", "contato", "telefone", "etiquetas",
	"criada_em", "ultima_atividade", "msgs_contato", "msgs_bot", "msgs_humano",
	"primeira_resposta_s", "primeira_resposta_humana_s", "resolucao_s", "sem_resposta", "resolvida",
	"transbordo", "resolvida_pelo_bot", "csat", "lead", "visita_agendada", "matriculado",
}

// ConversationRow formats one conversation for the export.
func (c *CSVWriter) ConversationRow(r dbsqlc.ConversationPageRow) error {
	csat := ""
	if r.CsatRating != nil {
		csat = strconv.Itoa(int(*r.CsatRating))
	}
	return c.Row(
		strconv.Itoa(int(r.ConversationID)), strconv.Itoa(int(r.DisplayID)), strconv.Itoa(int(r.InboxID)),
		r.ChannelType, StatusNames[r.Status], r.ContactName, r.ContactPhone, strings.Join(r.Labels, ", "),
		c.Time(r.CreatedAt), c.Time(r.LastActivityAt),
		c.Int(int64(r.ContactMessages)), c.Int(int64(r.BotMessages)), c.Int(int64(r.HumanMessages)),
		c.Float(r.FirstReplySeconds), c.Float(r.FirstHumanReplySeconds), c.Float(r.ResolutionSeconds),
		c.Bool(r.Unanswered), c.Bool(r.Resolved), c.Bool(r.Handoff), c.Bool(r.BotResolved), csat,
		c.Bool(r.IsLead), c.Bool(r.IsVisit), c.Bool(r.IsConverted),
	)
}
