package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/geniai/analytics/internal/dashboard"
	"github.com/geniai/analytics/internal/pg"
)

// Brand is the client shown in the header of a tenant page: its name and, when set, its logo,
// loaded by the reader's browser from the address the client gave (docs/adr/023).
type Brand struct {
	Name string
	Logo string // https address of a raster image, or "" (the name is shown instead)
}

// logoSource is the Content-Security-Policy source that allows exactly the logo: its scheme,
// host, port and path (a path without a trailing slash matches that one resource; the query is
// not part of a source). The address's rule lives in the constraint
// tenant_settings_logo_url_https_image; this check only refuses to put anything else in a header
// (a row written before that constraint, or a value that did not come from the table).
func logoSource(logo string) string {
	u, err := url.Parse(logo)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" ||
		!cspSourceChars.MatchString(u.Host+u.EscapedPath()) || strings.HasSuffix(u.EscapedPath(), "/") {
		return ""
	}
	return "https://" + u.Host + u.EscapedPath()
}

var cspSourceChars = regexp.MustCompile(`^[A-Za-z0-9.:-]+(/[A-Za-z0-9._~%+=@-]+)+$`)

// pageCSP is the page's Content-Security-Policy: the fixed policy, with the logo's address
// added to img-src when the page shows one.
func pageCSP(b *Brand) string {
	if b != nil && b.Logo != "" {
		if src := logoSource(b.Logo); src != "" {
			return strings.Replace(csp, imgSrc, imgSrc+" "+src, 1)
		}
	}
	return csp
}

// brandCSP is implemented by every page (through Page): the header render sets.
type brandCSP interface{ csp() string }

func (p Page) csp() string { return pageCSP(p.Brand) }

// userBrand is the signed-in client's brand, for the pages outside a tenant scope (settings,
// alerts, digests, account). Staff pages have none. A failure to read it costs the logo only.
func (s *Server) userBrand(r *http.Request, pr *pg.Principal) *Brand {
	if pr == nil || pr.IsStaff() || pr.TenantID == 0 {
		return nil
	}
	b := &Brand{Name: pr.TenantName}
	_ = s.db.InReadTx(r.Context(), *pr, func(tx pg.Tx) error {
		row, err := tx.TenantBranding(r.Context())
		if err == nil && row.DisplayName != "" {
			b.Name = row.DisplayName
		}
		if err == nil && row.LogoURL != nil {
			b.Logo = *row.LogoURL
		}
		return err
	})
	return b
}

// tenantBrand is the brand of a scoped tenant page: the client's own, or the one staff view as
// the client sees it.
func tenantBrand(t *dashboard.Tenant) *Brand {
	b := &Brand{Name: t.Name}
	if t.Settings.DisplayName != "" {
		b.Name = t.Settings.DisplayName
	}
	if t.Settings.LogoURL != nil {
		b.Logo = *t.Settings.LogoURL
	}
	return b
}
