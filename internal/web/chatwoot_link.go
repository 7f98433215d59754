package web

// ChatwootLink is the conversation in Chatwoot's own app (CHATWOOT_URL), where it is answered:
// /app/accounts/{account}/conversations/{number}. Empty when CHATWOOT_URL is unset or the inbox's
// account is unknown, and then no link is shown.
func (p TenantPage) ChatwootLink(inboxID, displayID int32) string {
	if p.ChatwootURL == "" {
		return ""
	}
	for _, ib := range p.Scope.Tenant.Inboxes {
		if ib.InboxID == inboxID && ib.AccountID != nil {
			return chatwootLink(p.ChatwootURL, *ib.AccountID, displayID)
		}
	}
	return ""
}

// ChatwootAccountLink is ChatwootLink when the conversation's account is known (the detail page).
func (p TenantPage) ChatwootAccountLink(accountID, displayID int32) string {
	if p.ChatwootURL == "" || accountID == 0 {
		return ""
	}
	return chatwootLink(p.ChatwootURL, accountID, displayID)
}
