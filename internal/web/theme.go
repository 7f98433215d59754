package web

import (
	"fmt"
	"net/http"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

const (
	defaultPrimary   = "#0F766E"
	defaultSecondary = "#B45309"
)

// themeCSS is the tenant's colours as CSS variables: a stylesheet, so the CSP needs no inline
// style. A stored colour is #RRGGBB by the constraints tenant_settings_*_color_format, the one
// place that format is checked; with no settings row the defaults apply.
func (s *Server) themeCSS(w http.ResponseWriter, r *http.Request) error {
	pr := principalFrom(r)
	primary, secondary := defaultPrimary, defaultSecondary
	if !pr.IsStaff() {
		var b dbsqlc.TenantBrandingRow
		if err := s.db.InReadTx(r.Context(), *pr, func(tx pg.Tx) error {
			var err error
			b, err = tx.TenantBranding(r.Context())
			return err
		}); err != nil && !pg.IsNoRows(err) {
			return err
		}
		if b.PrimaryColor != "" {
			primary = b.PrimaryColor
		}
		if b.SecondaryColor != "" {
			secondary = b.SecondaryColor
		}
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "private, no-cache")
	// Text on the colours and the colours as text, chosen for WCAG AA contrast (contrast.go).
	_, err := fmt.Fprintf(w, ":root {\n  --brand-primary: %s;\n  --brand-secondary: %s;\n  --on-primary: %s;\n  --on-secondary: %s;\n  --brand-primary-text: %s;\n  --brand-secondary-text: %s;\n}\n",
		primary, secondary, onColor(primary), onColor(secondary), textColor(primary), textColor(secondary))
	return err
}
