package digest

import (
	"context"
	"encoding/json"
	"math"
	"regexp"
	"strconv"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/pg"
)

// Subscription is what a user asks for: a frequency, and for weekly digests the weekday; the
// local hour of sending.
type Subscription struct {
	UserID    int64
	Frequency string // daily, weekly, monthly
	Weekday   int32  // 1 Monday ... 7 Sunday (weekly)
	Hour      int32  // 0-23, tenant's timezone
}

// The schedule's rules live in the table's CHECKs (digest_subscriptions_frequency_known,
// _weekday_range, _hour_range), whose named messages answer a bad form. Go keeps only what the
// database cannot say: the default weekday (Monday) of a form that sends none, and numbers too
// large for the smallint columns, which would otherwise wrap around into a valid value.

// smallint is v for a smallint column, or -1 (refused by the column's CHECK) when it does not fit.
func smallint(v int32) int16 {
	if v < math.MinInt16 || v > math.MaxInt16 {
		return -1
	}
	return int16(v)
}

// List is the tenant's subscriptions the caller may see (their own; all for a tenant admin and
// staff).
func List(ctx context.Context, db *pg.DB, p pg.Principal, tenantID int64) ([]dbsqlc.DigestSubscriptionsRow, error) {
	var out []dbsqlc.DigestSubscriptionsRow
	err := db.InReadTx(ctx, p, func(tx pg.Tx) error {
		var err error
		out, err = tx.DigestSubscriptions(ctx, tenantID)
		return err
	})
	return out, err
}

// Subscribe creates (or changes the schedule of) a subscription, audited. A user subscribes
// themselves; a tenant admin anyone of the tenant (the database refuses anything else).
func Subscribe(ctx context.Context, db *pg.DB, p pg.Principal, tenantID int64, s Subscription) (int64, error) {
	if s.Weekday == 0 {
		s.Weekday = 1
	}
	var id int64
	err := db.InTx(ctx, p, func(tx pg.Tx) error {
		var err error
		id, err = tx.DigestSubscribe(ctx, dbsqlc.DigestSubscribeParams{TenantID: tenantID, UserID: s.UserID,
			Frequency: s.Frequency, Weekday: smallint(s.Weekday), Hour: smallint(s.Hour)})
		if err != nil {
			return err
		}
		return audit(ctx, tx, "digest.subscribe", id, map[string]any{"user_id": s.UserID, "frequency": s.Frequency,
			"weekday": s.Weekday, "hour": s.Hour})
	})
	if apperr.KeyOf(err) == pg.ConstraintKeyPrefix+"digest_subscriptions_tenant_id_user_id_fkey" || apperr.Is(err, apperr.Forbidden) {
		// A user of another tenant (foreign key) or someone a client may not subscribe.
		return 0, apperr.New(apperr.NotFound, "err.user.not_found")
	}
	return id, err
}

// Unsubscribe removes a subscription the caller may manage, audited.
func Unsubscribe(ctx context.Context, db *pg.DB, p pg.Principal, tenantID, id int64) error {
	return db.InTx(ctx, p, func(tx pg.Tx) error {
		n, err := tx.DigestUnsubscribe(ctx, dbsqlc.DigestUnsubscribeParams{TenantID: tenantID, ID: id})
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "err.subscription.not_found")
		}
		if _, err := tx.MailCancel(ctx, dbsqlc.MailCancelParams{TenantID: tenantID, Ref: "digest:" + strconv.FormatInt(id, 10), Reason: "unsubscribed"}); err != nil {
			return err
		}
		return audit(ctx, tx, "digest.unsubscribe", id, map[string]any{"via": "page"})
	})
}

func audit(ctx context.Context, tx pg.Tx, action string, id int64, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return err
	}
	entity, eid := "digest_subscription", strconv.FormatInt(id, 10)
	_, err = tx.AuditEvent(ctx, dbsqlc.AuditEventParams{Action: action, Entity: entity, EntityID: eid, Details: b})
	return err
}

// LinkToken is the unsubscribe link's path segment: tenant.subscription.key.
var linkToken = regexp.MustCompile(`^([0-9]{1,18})\.([0-9]{1,18})\.([0-9a-f]{64})$`)

// ParseLink splits an unsubscribe token; ok is false for anything malformed.
func ParseLink(token string) (tenantID, id int64, key string, ok bool) {
	m := linkToken.FindStringSubmatch(token)
	if m == nil {
		return 0, 0, "", false
	}
	tenantID, _ = strconv.ParseInt(m[1], 10, 64)
	id, _ = strconv.ParseInt(m[2], 10, 64)
	return tenantID, id, m[3], true
}
