package digest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/digest"
	"github.com/geniai/analytics/internal/pg"
)

// The schedule's rules are the table's named CHECKs, answered by their messages with the
// database's own error; a number too large for the smallint columns is refused rather than
// wrapped into a valid hour. Before, Go repeated the three checks and answered before the
// database was asked.
func TestSubscriptionRulesAnsweredByTheirConstraints(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for _, c := range []struct {
		sub        digest.Subscription
		constraint string
	}{
		{digest.Subscription{Frequency: "hourly", Weekday: 1, Hour: 8}, "digest_subscriptions_frequency_known"},
		{digest.Subscription{Frequency: "weekly", Weekday: 8, Hour: 8}, "digest_subscriptions_weekday_range"},
		{digest.Subscription{Frequency: "weekly", Weekday: 1, Hour: 24}, "digest_subscriptions_hour_range"},
		{digest.Subscription{Frequency: "weekly", Weekday: 1, Hour: 65536 + 8}, "digest_subscriptions_hour_range"},
	} {
		c.sub.UserID = f.user
		_, err := digest.Subscribe(ctx, f.env.DB, f.subscriber(), f.a, c.sub)
		var pe *pgconn.PgError
		if apperr.KeyOf(err) != pg.ConstraintKeyPrefix+c.constraint || !errors.As(err, &pe) || pe.ConstraintName != c.constraint {
			t.Errorf("%+v: %v, want the database's %s", c.sub, err, c.constraint)
		}
	}
	// No weekday on the form: Monday, the default.
	if _, err := digest.Subscribe(ctx, f.env.DB, f.subscriber(), f.a, digest.Subscription{UserID: f.user, Frequency: "weekly", Hour: 8}); err != nil {
		t.Fatal(err)
	}
	// Another tenant's user: not found, as before.
	if _, err := digest.Subscribe(ctx, f.env.DB, f.subscriber(), f.a, digest.Subscription{UserID: f.user + 100000, Frequency: "daily", Hour: 8}); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown user: %v, want NotFound", err)
	}
}
