package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/pg"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Page is what every template gets: language, title, the signed-in user and the request id.
type Page struct {
	Lang      string
	Title     string
	RequestID string
	User      *pg.Principal
	Flash     string
	LangHref  string // this page in the other language, every parameter kept
	Brand     *Brand // the client's name and logo in the header (tenant pages only)
}

// T translates key into the page's language (pt-BR when missing).
func (p Page) T(key string) string { return translate(p.Lang, key) }

// Err is the message of err for the person reading the page, in the page's language.
func (p Page) Err(err error) string { return apperr.Message(err, p.Lang) }

// Num formats an integer the pt-BR way (1.234.567), or the English way.
func (p Page) Num(n int64) string { return formatInt(n, p.Lang) }

// Date formats a time as dd/mm/aaaa hh:mm (pt-BR) or yyyy-mm-dd hh:mm (en).
func (p Page) Date(t time.Time) string { return formatDate(t, p.Lang) }

func (s *Server) newPage(r *http.Request, titleKey string) Page {
	p := Page{Lang: s.langOf(r), RequestID: infoFrom(r.Context()).id, User: principalFrom(r)}
	p.Brand = s.userBrand(r, p.User)
	p.Title = p.T(titleKey)
	other := langEN
	if p.Lang == langEN {
		other = langPT
	}
	p.LangHref = "?lang=" + other
	if r.Method == http.MethodGet {
		p.LangHref = langLink(r.URL, other)
	}
	return p
}

// parsePages parses each page template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render executes a page into a buffer first, so a template error becomes a clean 500 and never a
// half-written page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	buf, err := s.execute(name, data)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if p, ok := data.(brandCSP); ok {
		h.Set("Content-Security-Policy", p.csp())
	}
	w.WriteHeader(status)
	_, err = w.Write(buf)
	return err
}

// execute renders a page with the layout.
func (s *Server) execute(name string, data any) ([]byte, error) {
	t, ok := s.pages[name]
	if !ok {
		return nil, fmt.Errorf("no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// staticHandler serves the embedded assets.
func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	fsrv := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: a directory (/static/, /static/x/) is not listed, it does not exist.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if st, err := fs.Stat(sub, strings.TrimSuffix(name, "/")); name == "" || strings.HasSuffix(name, "/") || err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// Languages: the page constants stay short in templates and format helpers.
const (
	langPT = locale.PT
	langEN = locale.EN
)

// langOf picks ?lang=, then (JSON API only) the client's Accept-Language, then a signed-in
// user's stored language (language.go), then the language cookie; pt-BR otherwise. Pages speak
// Portuguese by default whatever the browser's Accept-Language says; English is one click away.
// A JSON API client has no language switch, so its Accept-Language header counts.
func (s *Server) langOf(r *http.Request) string {
	if l, ok := locale.Match(r.URL.Query().Get("lang")); ok {
		return l
	}
	if isAPI(r) {
		if l, ok := locale.FromAcceptLanguage(r.Header.Get("Accept-Language")); ok {
			return l
		}
	}
	if principalFrom(r) != nil {
		if l, ok := locale.Match(s.sessions.GetString(r.Context(), keyLang)); ok {
			return l
		}
	}
	if c, err := r.Cookie(s.langCookie()); err == nil {
		if l, ok := locale.Match(c.Value); ok {
			return l
		}
	}
	return langPT
}

// translate is the page text of key in lang.
func translate(lang, key string) string { return locale.Translate(lang, key) }

func formatInt(n int64, lang string) string {
	sep := "."
	if lang == langEN {
		sep = ","
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

var saoPaulo = func() *time.Location {
	if l, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return l
	}
	return time.FixedZone("BRT", -3*3600)
}()

func formatDate(t time.Time, lang string) string {
	if t.IsZero() {
		return "—"
	}
	t = t.In(saoPaulo)
	if lang == langEN {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("02/01/2006 15:04")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
