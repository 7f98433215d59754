package tenantadmin

import (
	"context"
	"math"
	"regexp"
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

var colorRE = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
var logoRE = regexp.MustCompile(`^https?://[^\s"'<>]+$`)

// MinAccentContrast is the WCAG contrast the secondary colour needs against the white page
// (3:1, the level for graphics and large text), so bars and links stay visible.
const MinAccentContrast = 3.0

// Validate checks branding with messages a person understands.
func (b *Branding) Validate() error {
	b.DisplayName = strings.TrimSpace(b.DisplayName)
	b.LogoURL = strings.TrimSpace(b.LogoURL)
	b.PrimaryColor = strings.ToUpper(strings.TrimSpace(b.PrimaryColor))
	b.SecondaryColor = strings.ToUpper(strings.TrimSpace(b.SecondaryColor))
	switch {
	case b.DisplayName == "":
		return apperr.New(apperr.Invalid, "Informe o nome de exibição.")
	case utf8.RuneCountInString(b.DisplayName) > 120:
		return apperr.New(apperr.Invalid, "Nome de exibição muito longo (máximo de 120 caracteres).")
	case b.LogoURL != "" && (!logoRE.MatchString(b.LogoURL) || len(b.LogoURL) > 500):
		return apperr.New(apperr.Invalid, "Endereço do logotipo inválido: use uma URL http(s) de até 500 caracteres.")
	case !colorRE.MatchString(b.PrimaryColor):
		return apperr.New(apperr.Invalid, "Cor principal inválida: use o formato #RRGGBB (por exemplo #0F766E).")
	case !colorRE.MatchString(b.SecondaryColor):
		return apperr.New(apperr.Invalid, "Cor secundária inválida: use o formato #RRGGBB (por exemplo #B45309).")
	}
	if c := Contrast(b.SecondaryColor, "#FFFFFF"); c < MinAccentContrast {
		return apperr.New(apperr.Invalid, "A cor secundária %s fica ilegível sobre o fundo branco (contraste %.1f:1; o mínimo é %.0f:1). Escolha um tom mais escuro.", b.SecondaryColor, c, MinAccentContrast)
	}
	switch b.DefaultPeriodDays {
	case 1, 7, 30, 90, 365:
	default:
		return apperr.New(apperr.Invalid, "Período padrão inválido: use 1, 7, 30, 90 ou 365 dias.")
	}
	return nil
}

// luminance is the WCAG relative luminance of #RRGGBB.
func luminance(hex string) float64 {
	v, _ := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
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

// Validate checks the rules; regular expressions are checked again by the database (the same
// engine that will run them), see ValidateRegex.
func (f *Funnel) Validate() error {
	for _, ls := range []*[]string{&f.LeadLabels, &f.VisitLabels, &f.ConvertedLabels, &f.ExcludedLabels} {
		if *ls == nil {
			*ls = []string{} // an empty list, never NULL
		}
	}
	if f.SLAMinutes != 0 && (f.SLAMinutes < 1 || f.SLAMinutes > MaxSLAMinutes) {
		return apperr.New(apperr.Invalid, "Meta de SLA inválida: use de 1 a %d minutos em horário de atendimento.", MaxSLAMinutes)
	}
	for _, ls := range [][]string{f.LeadLabels, f.VisitLabels, f.ConvertedLabels, f.ExcludedLabels} {
		if len(ls) > 50 {
			return apperr.New(apperr.Invalid, "Use no máximo 50 etiquetas por etapa.")
		}
		for _, l := range ls {
			if utf8.RuneCountInString(l) > 100 {
				return apperr.New(apperr.Invalid, "Etiqueta muito longa: %q.", l)
			}
		}
	}
	for _, r := range f.regexes() {
		if len(r.re) > 500 {
			return apperr.New(apperr.Invalid, "A expressão regular de %s pode ter no máximo 500 caracteres.", r.stage)
		}
	}
	if !f.LeadAnyMessage && len(f.LeadLabels) == 0 && f.LeadRegex == "" {
		return apperr.New(apperr.Invalid, "Defina ao menos uma regra para lead (qualquer mensagem do contato, etiquetas ou expressão regular).")
	}
	return nil
}

type stageRegex struct{ re, stage string }

func (f *Funnel) regexes() []stageRegex {
	return []stageRegex{{f.LeadRegex, "lead"}, {f.VisitRegex, "visita"}, {f.ConvertedRegex, "matrícula"}}
}

// regexRefusal explains why a funnel rule using construct (what app.regex_refusal found) is
// refused: it would let one message stall the tenant's sync.
func regexRefusal(stage, construct string) error {
	if strings.HasPrefix(construct, `\`) {
		return apperr.New(apperr.Invalid, "A expressão regular de %s usa a referência anterior %s, que pode travar a sincronização com mensagens longas. "+
			"Reescreva sem ela: repita o trecho desejado em vez de referenciá-lo.", stage, construct)
	}
	kind := "um lookahead"
	if strings.HasPrefix(construct, "(?<") {
		kind = "um lookbehind"
	}
	return apperr.New(apperr.Invalid, "A expressão regular de %s usa %s (%s…), que pode travar a sincronização com mensagens longas. "+
		"Reescreva sem ele, descrevendo o que a mensagem deve conter.", stage, kind, construct)
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
			return apperr.New(apperr.NotFound, "Cliente não encontrado.")
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
			return apperr.New(apperr.NotFound, "Cliente não encontrado.")
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
				return apperr.New(apperr.NotFound, "Cliente não encontrado.")
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
			return apperr.New(apperr.NotFound, "Cliente não encontrado.")
		}
		return err
	})
}

// SetTimezone changes the tenant's timezone; the next ETL run recomputes days and hours.
func (s *Service) SetTimezone(ctx context.Context, p pg.Principal, tenantID int64, tz string) error {
	tz = strings.TrimSpace(tz)
	if err := ValidTimezone(tz); err != nil {
		return err
	}
	return s.DB.InTx(ctx, p, func(tx pg.Tx) error {
		_, err := tx.TenantTimezoneSet(ctx, dbsqlc.TenantTimezoneSetParams{ID: tenantID, Timezone: tz})
		if pg.IsNoRows(err) {
			return apperr.New(apperr.NotFound, "Cliente não encontrado.")
		}
		return err
	})
}
