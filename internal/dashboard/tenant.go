package dashboard

import (
	"context"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Tenant is what the dashboard needs to know about the tenant it shows.
type Tenant struct {
	dbsqlc.AppTenant
	Settings dbsqlc.AppTenantSetting
	Inboxes  []dbsqlc.TenantInboxNamesRow
	Labels   []string // every label its conversations carry, most used first (the label picker)
	Loc      *time.Location
}

// InboxIDs lists the tenant's inbox ids (the only ones a filter may name).
func (t *Tenant) InboxIDs() []int32 {
	ids := make([]int32, len(t.Inboxes))
	for i, ib := range t.Inboxes {
		ids[i] = ib.InboxID
	}
	return ids
}

// Channels lists the distinct channel types of the tenant's inboxes.
func (t *Tenant) Channels() []string {
	var out []string
	seen := map[string]bool{}
	for _, ib := range t.Inboxes {
		if ib.ChannelType != "" && !seen[ib.ChannelType] {
			seen[ib.ChannelType] = true
			out = append(out, ib.ChannelType)
		}
	}
	return out
}

// ResolveLabel finds the tenant's label a typed text means, ignoring case and accents ("PRECO"
// finds "preço"): the exact label when one matches, else the only label whose folded form
// matches, else the only label whose folded form contains it ("visita" finds "visita-agendada").
// ok is false when none or several do (the page then asks to pick from the list); the
// filter itself always applies a label exactly, so a figure and its list agree.
func (t *Tenant) ResolveLabel(typed string) (label string, candidates []string, ok bool) {
	for _, l := range t.Labels {
		if l == typed {
			return l, nil, true
		}
	}
	want := Fold(typed)
	for _, l := range t.Labels {
		if Fold(l) == want {
			candidates = append(candidates, l)
		}
	}
	if len(candidates) == 0 && want != "" {
		// The field says "type part of the name": a piece of one label is that label, a piece
		// of several lists them to choose from.
		for _, l := range t.Labels {
			if strings.Contains(Fold(l), want) {
				candidates = append(candidates, l)
			}
		}
	}
	if len(candidates) == 1 {
		return candidates[0], nil, true
	}
	return "", candidates, false
}

// Today is the current date in the tenant's timezone.
func (t *Tenant) Today(now time.Time) time.Time {
	n := now.In(t.Loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// LoadTenant reads the tenant a dashboard shows. Another tenant's id (for a tenant user) is
// NotFound, like a missing one: RLS hides the row. With a Cache, the tenant's version is read
// first and a Tenant of that very version (its record, settings and inboxes are part of the
// version, its labels come with its data) is returned without reading anything else; the caller
// must not modify it.
func (s *Service) LoadTenant(ctx context.Context, p pg.Principal, tenantID int64) (*Tenant, error) {
	t := &Tenant{}
	var key cacheKey
	err := s.DB.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		if s.Cache != nil {
			v, err := versionOf(ctx, tx, tenantID)
			if pg.IsNoRows(err) {
				return apperr.New(apperr.NotFound, "err.tenant.not_found")
			} else if err != nil {
				return err
			}
			key = newKey(p, tenantID, Filter{}, v)
			key.filter = scopeFilter
			if cached := s.Cache.getTenant(key); cached != nil {
				t = cached
				return nil
			}
		}
		if t.AppTenant, err = tx.TenantGetByID(ctx, tenantID); pg.IsNoRows(err) || err == nil && t.IsPlatform {
			return apperr.New(apperr.NotFound, "err.tenant.not_found")
		} else if err != nil {
			return err
		}
		if t.Settings, err = tx.SettingsGet(ctx, tenantID); err != nil {
			return err
		}
		if t.Inboxes, err = tx.TenantInboxNames(ctx, tenantID); err != nil {
			return err
		}
		t.Labels, err = tx.TenantLabels(ctx, tenantID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if t.Loc != nil { // from the cache
		if t.IsPlatform {
			return nil, apperr.New(apperr.NotFound, "err.tenant.not_found")
		}
		return t, nil
	}
	if t.Loc, err = time.LoadLocation(t.Timezone); err != nil {
		t.Loc = time.UTC
	}
	if s.Cache != nil {
		s.Cache.putTenant(key, t)
	}
	return t, nil
}
