package tenantadmin

import (
	"context"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Branding is a tenant's look: used by the tenant admin's /settings and the staff panel.
type Branding struct {
	DisplayName       string
	LogoURL           string
	PrimaryColor      string
	SecondaryColor    string
	DefaultPeriodDays int32
}

// MinAccentContrast is the WCAG contrast the secondary colour needs against the white page
// (3:1, the level for graphics and large text), so bars and links stay visible.
const MinAccentContrast = 3.0

// Validate normalises branding and checks what no constraint of app.tenant_settings checks: a
// display name is given and the accent colour reads on white. The formats of the colours and the
// logo address, the name's length and the default period are the table's constraints.
func (b *Branding) Validate() error {
	b.DisplayName = strings.TrimSpace(b.DisplayName)
	b.LogoURL = strings.TrimSpace(b.LogoURL)
	b.PrimaryColor = strings.ToUpper(strings.TrimSpace(b.PrimaryColor))
	b.SecondaryColor = strings.ToUpper(strings.TrimSpace(b.SecondaryColor))
	if b.DisplayName == "" {
		return apperr.New(apperr.Invalid, "err.branding.display_name_required")
	}
	if _, ok := rgb(b.SecondaryColor); ok { // a malformed colour is the constraint's to report
		if c := Contrast(b.SecondaryColor, "#FFFFFF"); c < MinAccentContrast {
			return apperr.New(apperr.Invalid, "err.branding.low_contrast", b.SecondaryColor, c, MinAccentContrast)
		}
	}
	return nil
}

// rgb reads #RRGGBB; ok is false for anything else.
func rgb(hex string) (uint64, bool) {
	if len(hex) != 7 || hex[0] != '#' {
		return 0, false
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	return v, err == nil
}

// luminance is the WCAG relative luminance of #RRGGBB (black for anything else).
func luminance(hex string) float64 {
	v, _ := rgb(hex)
	ch := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(v>>16&0xFF) + 0.7152*ch(v>>8&0xFF) + 0.0722*ch(v&0xFF)
}

// Contrast is the WCAG contrast ratio between two #RRGGBB colours (1 to 21).
func Contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TextOn picks white or near-black text for a background, whichever reads better; every colour
// reaches at least 4.5:1 with one of them.
func TextOn(bg string) string {
	if Contrast(bg, "#FFFFFF") >= Contrast(bg, "#111827") {
		return "#FFFFFF"
	}
	return "#111827"
}

// Funnel is a tenant's funnel rules.
type Funnel struct {
	LeadAnyMessage  bool
	LeadLabels      []string
	LeadRegex       string
	VisitLabels     []string
	VisitRegex      string
	ConvertedLabels []string
	ConvertedRegex  string
	// ExcludedLabels: a conversation with any of them is in no stage (docs/metrics.md).
	ExcludedLabels []string
	// SLAMinutes is the target for the first wait for a person, in minutes of business time;
	// 0 keeps the current target.
	SLAMinutes int32
}

// MaxSLAMinutes is the largest SLA target: a week of business time.
const MaxSLAMinutes = 7 * 24 * 60

// ParseLabels reads a comma-separated label list (Chatwoot labels are lowercase).
func ParseLabels(s string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		l := strings.ToLower(strings.TrimSpace(part))
		if l != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// Validate checks the rules' sizes and that a lead has a rule; whether a regular expression
// compiles is the constraint's (tenant_settings_*_regex_valid: the engine that will run it).
func (f *Funnel) Validate() error {
	for _, ls := range []*[]string{&f.LeadLabels, &f.VisitLabels, &f.ConvertedLabels, &f.ExcludedLabels} {
		if *ls == nil {
			*ls = []string{} // an empty list, never NULL
		}
	}
	if f.SLAMinutes != 0 && (f.SLAMinutes < 1 || f.SLAMinutes > MaxSLAMinutes) {
		return apperr.New(apperr.Invalid, "err.funnel.sla_minutes", MaxSLAMinutes)
	}
	for _, ls := range [][]string{f.LeadLabels, f.VisitLabels, f.ConvertedLabels, f.ExcludedLabels} {
		if len(ls) > 50 {
			return apperr.New(apperr.Invalid, "err.funnel.too_many_labels")
		}
		for _, l := range ls {
			if utf8.RuneCountInString(l) > 100 {
				return apperr.New(apperr.Invalid, "err.funnel.label_too_long", l)
			}
		}
	}
	switch {
	case len(f.LeadRegex) > 500:
		return apperr.New(apperr.Invalid, "err.funnel.lead_regex_too_long")
	case len(f.VisitRegex) > 500:
		return apperr.New(apperr.Invalid, "err.funnel.visit_regex_too_long")
	case len(f.ConvertedRegex) > 500:
		return apperr.New(apperr.Invalid, "err.funnel.converted_regex_too_long")
	}
	if !f.LeadAnyMessage && len(f.LeadLabels) == 0 && f.LeadRegex == "" {
		return apperr.New(apperr.Invalid, "err.funnel.lead_rule_required")
	}
	return nil
}

// stageRegex is a stage's regular expression and the stage's name, for messages.
type stageRegex struct {
	re    string
	stage apperr.Text
}

func (f *Funnel) regexes() []stageRegex {
	return []stageRegex{{f.LeadRegex, apperr.Text("funnel.stage.lead")}, {f.VisitRegex, apperr.Text("funnel.stage.visit")},
		{f.ConvertedRegex, apperr.Text("funnel.stage.converted")}}
}

// regexRefusal explains why a funnel rule using construct (what app.regex_refusal found) is
// refused: it would let one message stall the tenant's sync.
func regexRefusal(stage apperr.Text, construct string) error {
	switch {
	case strings.HasPrefix(construct, `\`):
		return apperr.New(apperr.Invalid, "err.funnel.regex_backref", stage, construct)
	case strings.HasPrefix(construct, "(?<"):
		return apperr.New(apperr.Invalid, "err.funnel.regex_lookbehind", stage, construct)
	}
	return apperr.New(apperr.Invalid, "err.funnel.regex_lookahead", stage, construct)
}

// Settings is what the settings pages edit.
type Settings = dbsqlc.AppTenantSetting

// GetSettings reads a tenant's settings.
func (s *Service) GetSettings(ctx context.Context, p pg.Principal, tenantID int64) (Settings, error) {
	var out Settings
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		out, err = tx.SettingsGet(ctx, tenantID)
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		}
		return err
	})
	return out, err
}

// SetBranding saves branding (tenant admin of that tenant, or super_admin).
func (s *Service) SetBranding(ctx context.Context, p pg.Principal, tenantID int64, b Branding) error {
	if err := b.Validate(); err != nil {
		return err
	}
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		_, err := tx.SettingsUpdateBranding(ctx, dbsqlc.SettingsUpdateBrandingParams{
			TenantID: tenantID, DisplayName: b.DisplayName, LogoURL: optString(b.LogoURL),
			PrimaryColor: b.PrimaryColor, SecondaryColor: b.SecondaryColor, DefaultPeriodDays: b.DefaultPeriodDays,
		})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		}
		return err
	})
}

// SetFunnel saves funnel rules; the next ETL run re-applies them to the whole history.
func (s *Service) SetFunnel(ctx context.Context, p pg.Principal, tenantID int64, f Funnel) error {
	if err := f.Validate(); err != nil {
		return err
	}
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		// The database names what it refuses (the same function backs the table's constraints).
		for _, r := range f.regexes() {
			if r.re == "" {
				continue
			}
			construct, err := tx.RegexRefusal(ctx, r.re)
			if err != nil {
				return err
			}
			if construct != "" {
				return regexRefusal(r.stage, construct)
			}
		}
		if f.SLAMinutes == 0 {
			cur, err := tx.SettingsGet(ctx, tenantID)
			if pg.IsNoRows(err) {
				return apperr.New(apperr.NotFound, "err.tenant.not_found")
			} else if err != nil {
				return err
			}
			f.SLAMinutes = cur.SlaSeconds / 60
		}
		_, err := tx.SettingsUpdateFunnel(ctx, dbsqlc.SettingsUpdateFunnelParams{
			TenantID: tenantID, LeadAnyMessage: f.LeadAnyMessage, LeadLabels: f.LeadLabels,
			LeadRegex: optString(f.LeadRegex), VisitLabels: f.VisitLabels, VisitRegex: optString(f.VisitRegex),
			ConvertedLabels: f.ConvertedLabels, ConvertedRegex: optString(f.ConvertedRegex),
			LeadExclusionLabels: f.ExcludedLabels, SlaSeconds: f.SLAMinutes * 60,
		})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		}
		return err
	})
}

// SetTimezone changes the tenant's timezone; the next ETL run recomputes days and hours. The
// name is checked by the constraint tenants_timezone_known (PostgreSQL's own zone list).
func (s *Service) SetTimezone(ctx context.Context, p pg.Principal, tenantID int64, tz string) error {
	tz = strings.TrimSpace(tz)
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		_, err := tx.TenantTimezoneSet(ctx, dbsqlc.TenantTimezoneSetParams{ID: tenantID, Timezone: tz})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		}
		return err
	})
}
