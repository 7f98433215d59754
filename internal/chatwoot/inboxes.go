package chatwoot

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/chatwoot/cwsqlc"
	"github.com/geniai/analytics/internal/staff"
)

// Inboxes lists every inbox of the Chatwoot database at url, live, for the onboarding wizard.
// An unreachable source is an Unavailable error with a message for the person waiting.
func Inboxes(ctx context.Context, url string) ([]staff.SourceInbox, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "err.chatwoot.connect")
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := cwsqlc.New(conn).InboxList(ctx)
	if err != nil {
		return nil, apperr.Wrap(fmt.Errorf("chatwoot: inbox list: %w", err), apperr.Unavailable, "err.chatwoot.inbox_list")
	}
	out := make([]staff.SourceInbox, len(rows))
	for i, r := range rows {
		ch := ""
		if r.ChannelType != nil {
			ch = *r.ChannelType
		}
		out[i] = staff.SourceInbox{ID: r.ID, AccountID: r.AccountID, AccountName: r.AccountName, Name: r.Name, ChannelType: ch}
	}
	return out, nil
}
