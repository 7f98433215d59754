package mail

import (
	"bytes"
	_ "embed"
	"html/template"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Brand is how a tenant's messages look: its name, colours and logo.
type Brand struct {
	Name      string
	Primary   string // #RRGGBB; the header and the button
	Secondary string // #RRGGBB; accents
	LogoURL   string // absolute http(s) URL or ""
}

// Button is the one call to action of a message.
type Button struct {
	Label string
	URL   string
}

// Page is the content of a branded message. Intro and After are plain paragraphs; Body, when
// set, is trusted HTML placed between them (a digest's tables and charts).
type Page struct {
	Lang      string // pt-BR or en
	Brand     Brand
	Preheader string // the line mail clients show beside the subject
	Title     string
	Intro     []string
	Body      template.HTML
	Button    *Button
	After     []string
	Footer    []string
	// FooterLink is a small link under the footer (unsubscribe).
	FooterLink *Button
}

//go:embed layout.html
var layoutHTML string

var layout = template.Must(template.New("layout").Parse(layoutHTML))

var hexColour = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

type layoutData struct {
	Page
	Primary, OnPrimary, Secondary string
	Logo                          template.URL
}

// HTML renders the page as an HTML e-mail: tables and inline styles, which every mail client
// understands, in the tenant's colours.
func (p Page) HTML() (string, error) {
	d := layoutData{Page: p, Primary: "#0F766E", Secondary: "#B45309"}
	if hexColour.MatchString(p.Brand.Primary) {
		d.Primary = strings.ToUpper(p.Brand.Primary)
	}
	if hexColour.MatchString(p.Brand.Secondary) {
		d.Secondary = strings.ToUpper(p.Brand.Secondary)
	}
	d.OnPrimary = TextOn(d.Primary)
	if strings.HasPrefix(p.Brand.LogoURL, "https://") || strings.HasPrefix(p.Brand.LogoURL, "http://") {
		d.Logo = template.URL(p.Brand.LogoURL)
	}
	if d.Lang == "" {
		d.Lang = "pt-BR"
	}
	var b bytes.Buffer
	if err := layout.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Text renders the plain-text alternative: the same words, links written out.
func (p Page) Text(body string) string {
	var b strings.Builder
	b.WriteString(p.Brand.Name)
	b.WriteString("\n\n")
	b.WriteString(p.Title)
	b.WriteString("\n\n")
	for _, s := range p.Intro {
		b.WriteString(s + "\n\n")
	}
	if body != "" {
		b.WriteString(strings.TrimRight(body, "\n") + "\n\n")
	}
	if p.Button != nil {
		b.WriteString(p.Button.Label + ":\n" + p.Button.URL + "\n\n")
	}
	for _, s := range p.After {
		b.WriteString(s + "\n\n")
	}
	if len(p.Footer) > 0 || p.FooterLink != nil {
		b.WriteString("-- \n")
		for _, s := range p.Footer {
			b.WriteString(s + "\n")
		}
		if p.FooterLink != nil {
			b.WriteString(p.FooterLink.Label + ": " + p.FooterLink.URL + "\n")
		}
	}
	return b.String()
}

// TextOn is black or white, whichever reads better on the #RRGGBB background (WCAG contrast).
func TextOn(bg string) string {
	v, err := strconv.ParseUint(strings.TrimPrefix(bg, "#"), 16, 32)
	if err != nil {
		return "#FFFFFF"
	}
	ch := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	l := 0.2126*ch(v>>16&0xFF) + 0.7152*ch(v>>8&0xFF) + 0.0722*ch(v&0xFF)
	if (l+0.05)/0.05 >= 1.05/(l+0.05) {
		return "#111827"
	}
	return "#FFFFFF"
}
