package web

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/geniai/analytics/internal/staff"
)

// The Chatwoot inboxes as the onboarding wizard and a client's inbox mapping list them: one group
// per Chatwoot account (its name and id), the inboxes another client already has marked and not
// selectable, and a text filter — live in the browser (static/app.js, on data-text), and on the
// server through ?q= when JavaScript is off.

// PickInbox is one inbox of the picker with its search text (folded: no accents, lower case).
type PickInbox struct {
	staff.SourceInbox
	Text string
}

// InboxGroup is one Chatwoot account's inboxes.
type InboxGroup struct {
	AccountID   int32
	AccountName string
	Inboxes     []PickInbox
	Free        int64 // how many of them no client has yet
}

// inboxMatch says whether every word of the folded query q is in the inbox's search text.
func inboxMatch(text, q string) bool {
	for _, w := range strings.Fields(q) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// groupInboxes groups list by account (accounts by name, inboxes by name), keeping those that
// match q; hidden lists the ids in chosen that the filter left out, so a filtered page still
// submits them.
func groupInboxes(list []staff.SourceInbox, q string, chosen map[int32]bool) (groups []InboxGroup, hidden []int32) {
	q = staff.Fold(strings.TrimSpace(q))
	sorted := slices.Clone(list)
	slices.SortStableFunc(sorted, func(a, b staff.SourceInbox) int {
		return cmp.Or(cmp.Compare(staff.Fold(a.AccountName), staff.Fold(b.AccountName)), cmp.Compare(a.AccountID, b.AccountID),
			cmp.Compare(staff.Fold(a.Name), staff.Fold(b.Name)), cmp.Compare(a.ID, b.ID))
	})
	for _, ib := range sorted {
		text := staff.Fold(ib.AccountName + " #" + strconv.Itoa(int(ib.AccountID)) + " " + ib.Name + " #" +
			strconv.Itoa(int(ib.ID)) + " " + channelName(ib.ChannelType) + " " + ib.MappedTo)
		if !inboxMatch(text, q) {
			if chosen[ib.ID] {
				hidden = append(hidden, ib.ID)
			}
			continue
		}
		if n := len(groups); n == 0 || groups[n-1].AccountID != ib.AccountID {
			groups = append(groups, InboxGroup{AccountID: ib.AccountID, AccountName: ib.AccountName})
		}
		g := &groups[len(groups)-1]
		g.Inboxes = append(g.Inboxes, PickInbox{SourceInbox: ib, Text: text})
		if ib.MappedTo == "" {
			g.Free++
		}
	}
	return groups, hidden
}
