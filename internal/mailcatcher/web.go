package mailcatcher

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Handler is the catcher's web page: the list of received messages, each message (HTML in a
// sandboxed frame, the text part, headers, files) and its raw source.
//
//	GET  /                  list
//	GET  /m/{n}             one message
//	GET  /m/{n}/html        its HTML part (sandboxed; cid: images rewritten to /m/{n}/cid/...)
//	GET  /m/{n}/cid/{cid}   an inline image
//	GET  /m/{n}/file/{i}    a file
//	GET  /m/{n}/raw         the .eml source
//	GET  /api/messages      JSON list (number, time, from, to, subject)
//	POST /clear             forget everything
func (c *Catcher) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.list)
	mux.HandleFunc("GET /m/{n}", c.show)
	mux.HandleFunc("GET /m/{n}/html", c.html)
	mux.HandleFunc("GET /m/{n}/cid/{cid}", c.cid)
	mux.HandleFunc("GET /m/{n}/file/{i}", c.file)
	mux.HandleFunc("GET /m/{n}/raw", c.raw)
	mux.HandleFunc("GET /api/messages", c.apiList)
	mux.HandleFunc("POST /clear", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			http.Error(w, "cross-site request refused", http.StatusForbidden)
			return
		}
		c.Clear()
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

type row struct {
	N       int
	At      string
	From    string
	To      string
	Subject string
	Size    string
}

func summary(m Received) row {
	subj := ""
	if p, err := m.Parsed(); err == nil {
		subj = p.Subject
	}
	return row{N: m.N, At: m.At.Format("02/01 15:04:05"), From: m.From, To: strings.Join(m.To, ", "),
		Subject: subj, Size: fmt.Sprintf("%.1f KB", float64(len(m.Raw))/1024)}
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · caixa de teste</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1f2937;background:#f8fafc}
header{background:#0f766e;color:#fff;padding:.8rem 1.2rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#fff}header h1{font-size:1.1rem;margin:0;flex:1}
main{padding:1rem 1.2rem;max-width:1100px;margin:auto}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;color:#6b7280}
td.subj a{font-weight:600;color:#0f766e;text-decoration:none}
.meta{background:#fff;border:1px solid #e5e7eb;padding:.8rem;border-radius:6px;margin-bottom:1rem;overflow-wrap:anywhere}
.meta table{background:none}.meta th{text-transform:none;font-size:.9rem;color:#1f2937;width:11rem;white-space:nowrap;border:0;padding:.15rem .6rem .15rem 0}.meta td{border:0;padding:.15rem 0}
iframe{width:100%;height:70vh;border:1px solid #e5e7eb;background:#fff;border-radius:6px}
pre{white-space:pre-wrap;background:#fff;border:1px solid #e5e7eb;padding:.8rem;border-radius:6px;overflow-wrap:anywhere}
button{background:#fff;color:#0f766e;border:0;border-radius:4px;padding:.35rem .7rem;font-weight:600;cursor:pointer}
.empty{padding:2rem;text-align:center;color:#6b7280;background:#fff;border:1px dashed #cbd5e1;border-radius:6px}
@media (max-width:640px){.hide-s{display:none}.meta th{width:auto;white-space:normal}}
</style></head><body>
<header><h1><a href="/">Caixa de teste</a> · e-mails recebidos por este servidor SMTP local</h1>
<form method="post" action="/clear"><button>Apagar tudo</button></form></header>
<main>
{{if .Rows}}{{if not .Msg}}
<table><thead><tr><th>#</th><th>Assunto</th><th>Para</th><th class="hide-s">De</th><th class="hide-s">Recebido</th><th class="hide-s">Tamanho</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.N}}</td><td class="subj"><a href="/m/{{.N}}">{{if .Subject}}{{.Subject}}{{else}}(sem assunto){{end}}</a></td><td>{{.To}}</td><td class="hide-s">{{.From}}</td><td class="hide-s">{{.At}}</td><td class="hide-s">{{.Size}}</td></tr>
{{end}}</tbody></table>{{end}}
{{else}}{{if not .Msg}}<p class="empty">Nenhuma mensagem ainda. Tudo o que o GeniAI enviar aparece aqui (a página se atualiza ao recarregar).</p>{{end}}{{end}}
{{with .Msg}}
<div class="meta"><table>
<tr><th>Assunto</th><td>{{.Subject}}</td></tr><tr><th>De</th><td>{{.From}}</td></tr><tr><th>Para</th><td>{{.To}}</td></tr>
<tr><th>Message-ID</th><td>{{.MessageID}}</td></tr>{{range .Extra}}<tr><th>{{.K}}</th><td>{{.V}}</td></tr>{{end}}
<tr><th>Estrutura</th><td>{{range .Structure}}<code style="white-space:pre">{{.}}</code><br>{{end}}</td></tr>
{{if .Files}}<tr><th>Arquivos</th><td>{{range .Files}}<a href="{{.Href}}">{{.Name}}</a> ({{.Type}}, {{.Size}})<br>{{end}}</td></tr>{{end}}
<tr><th>Fonte</th><td><a href="/m/{{.N}}/raw">.eml</a></td></tr></table></div>
{{if .HasHTML}}<iframe sandbox title="HTML da mensagem" src="/m/{{.N}}/html"></iframe>{{end}}
<h2>Texto</h2><pre>{{.Text}}</pre>
{{end}}
</main></body></html>`))

type kv struct{ K, V string }

type fileRow struct {
	Name, Type, Size, Href string
}

type msgView struct {
	N                                  int
	Subject, From, To, MessageID, Text string
	HasHTML                            bool
	Extra                              []kv
	Structure                          []string
	Files                              []fileRow
}

type pageData struct {
	Title string
	Rows  []row
	Msg   *msgView
}

func render(w http.ResponseWriter, d pageData) {
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'")
	_, _ = w.Write(b.Bytes())
}

func (c *Catcher) list(w http.ResponseWriter, _ *http.Request) {
	msgs := c.Messages()
	rows := make([]row, 0, len(msgs))
	for i := len(msgs) - 1; i >= 0; i-- {
		rows = append(rows, summary(msgs[i]))
	}
	render(w, pageData{Title: fmt.Sprintf("%d mensagens", len(rows)), Rows: rows})
}

func (c *Catcher) message(w http.ResponseWriter, r *http.Request) (Received, *Parsed, bool) {
	n, err := strconv.Atoi(r.PathValue("n"))
	m, ok := c.Get(n)
	if err != nil || !ok {
		http.Error(w, "mensagem não encontrada", http.StatusNotFound)
		return m, nil, false
	}
	p, err := m.Parsed()
	if err != nil {
		http.Error(w, "MIME ilegível: "+err.Error(), http.StatusUnprocessableEntity)
		return m, nil, false
	}
	return m, p, true
}

func (c *Catcher) show(w http.ResponseWriter, r *http.Request) {
	m, p, ok := c.message(w, r)
	if !ok {
		return
	}
	v := &msgView{N: m.N, Subject: p.Subject, From: p.Header.Get("From"), To: p.Header.Get("To"),
		MessageID: p.Header.Get("Message-Id"), Text: p.Text, HasHTML: p.HTML != "", Structure: p.Structure}
	for _, k := range []string{"Date", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted"} {
		if val := p.Header.Get(k); val != "" {
			v.Extra = append(v.Extra, kv{k, val})
		}
	}
	for i, f := range p.Parts {
		name := f.Filename
		if name == "" {
			name = "(sem nome)"
		}
		if f.ContentID != "" {
			name += " · cid:" + f.ContentID
		}
		v.Files = append(v.Files, fileRow{Name: name, Type: f.ContentType, Size: fmt.Sprintf("%.1f KB", float64(len(f.Data))/1024),
			Href: fmt.Sprintf("/m/%d/file/%d", m.N, i)})
	}
	render(w, pageData{Title: p.Subject, Rows: []row{summary(m)}, Msg: v})
}

var cidRef = regexp.MustCompile(`(?i)(src=["'])cid:([^"']+)`)

func (c *Catcher) html(w http.ResponseWriter, r *http.Request) {
	m, p, ok := c.message(w, r)
	if !ok {
		return
	}
	body := cidRef.ReplaceAllString(p.HTML, fmt.Sprintf("${1}/m/%d/cid/${2}", m.N))
	// The message's HTML is untrusted: no script, no forms, no plugins, nothing from elsewhere
	// but images of this catcher.
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func (c *Catcher) cid(w http.ResponseWriter, r *http.Request) {
	_, p, ok := c.message(w, r)
	if !ok {
		return
	}
	for _, f := range p.Parts {
		if f.ContentID == r.PathValue("cid") {
			serveFile(w, f, false)
			return
		}
	}
	http.Error(w, "imagem não encontrada", http.StatusNotFound)
}

func (c *Catcher) file(w http.ResponseWriter, r *http.Request) {
	_, p, ok := c.message(w, r)
	if !ok {
		return
	}
	i, err := strconv.Atoi(r.PathValue("i"))
	if err != nil || i < 0 || i >= len(p.Parts) {
		http.Error(w, "arquivo não encontrado", http.StatusNotFound)
		return
	}
	serveFile(w, p.Parts[i], true)
}

func serveFile(w http.ResponseWriter, f Part, download bool) {
	ct := f.ContentType
	if !strings.HasPrefix(ct, "image/png") && !strings.HasPrefix(ct, "image/jpeg") && !strings.HasPrefix(ct, "image/gif") {
		download = true
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Security-Policy", "sandbox; default-src 'none'")
	if download {
		name := f.Filename
		if name == "" {
			name = "arquivo"
		}
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.ReplaceAll(name, `"`, "")))
	}
	_, _ = w.Write(f.Data)
}

func (c *Catcher) raw(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	m, ok := c.Get(n)
	if !ok {
		http.Error(w, "mensagem não encontrada", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=\"mensagem-%d.eml\"", m.N))
	_, _ = w.Write(m.Raw)
}

func (c *Catcher) apiList(w http.ResponseWriter, _ *http.Request) {
	type item struct {
		N       int       `json:"n"`
		At      time.Time `json:"at"`
		From    string    `json:"from"`
		To      []string  `json:"to"`
		Subject string    `json:"subject"`
	}
	out := []item{}
	for _, m := range c.Messages() {
		s := summary(m)
		out = append(out, item{N: m.N, At: m.At, From: m.From, To: m.To, Subject: s.Subject})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
