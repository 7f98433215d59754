package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/geniai/analytics/internal/pg"
)

// webhookPathPrefix is where Chatwoot posts; what follows it is the secret, never logged.
const webhookPathPrefix = "/hooks/chatwoot/"

// webhookEvents are the Chatwoot events that change what a tenant's dashboard shows.
var webhookEvents = map[string]bool{
	"message_created":             true,
	"message_updated":             true,
	"conversation_created":        true,
	"conversation_status_changed": true,
	"conversation_updated":        true,
}

// webhookMaxBody bounds a delivery: Chatwoot sends one object with the conversation's latest
// messages, well under this.
const webhookMaxBody = 1 << 20

// chatwootHook answers POST /hooks/chatwoot/{secret}: a Chatwoot webhook delivery. It sits outside
// sessions and the cross-origin check (a server calls it, with no cookie); the secret in the path
// is what authenticates it, compared in constant time. A delivery for a mapped inbox notifies that
// tenant's debounced sync and is answered 202; anything else changes nothing: an event we do not
// use or an inbox no tenant maps is answered 200 and logged, a malformed body 400, a wrong secret
// 404 (as if the route did not exist).
func (s *Server) chatwootHook(w http.ResponseWriter, r *http.Request) {
	answer := func(code int, event, result string) {
		s.metrics.Webhook(event, result)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"result":"`+result+`"}`+"\n")
	}
	// Every line carries the request id, so it pairs with the request log's line (which shows
	// the path with the secret redacted).
	log := s.log.With("request_id", infoFrom(r.Context()).id)
	got := sha256.Sum256([]byte(r.PathValue("secret")))
	if s.webhookSecret == nil || subtle.ConstantTimeCompare(got[:], s.webhookSecret) != 1 {
		// Worth a line of its own: a Chatwoot webhook registered with an old secret fails here.
		log.Warn("webhook: wrong secret (Chatwoot's webhook URL must end with WEBHOOK_SECRET)")
		s.metrics.Webhook("", "unauthorized")
		http.NotFound(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, webhookMaxBody))
	if err != nil {
		log.Warn("webhook: unreadable body", "err", err)
		answer(http.StatusBadRequest, "", "malformed")
		return
	}
	var ev webhookPayload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil || ev.Event == "" {
		log.Warn("webhook: malformed body", "err", err, "bytes", len(body))
		answer(http.StatusBadRequest, "", "malformed")
		return
	}
	if !webhookEvents[ev.Event] {
		log.Info("webhook: event not used", "event", ev.Event)
		answer(http.StatusOK, "other", "ignored")
		return
	}
	inbox := ev.inboxID()
	if inbox == 0 {
		log.Warn("webhook: no inbox id in the payload", "event", ev.Event)
		answer(http.StatusBadRequest, ev.Event, "malformed")
		return
	}
	tenant, err := s.hookInboxes.tenantOf(r.Context(), s.db, inbox)
	if err != nil {
		log.Error("webhook: resolving the inbox failed", "event", ev.Event, "inbox", inbox, "err", err)
		answer(http.StatusServiceUnavailable, ev.Event, "error")
		return
	}
	if tenant == 0 {
		log.Info("webhook: inbox mapped to no tenant", "event", ev.Event, "inbox", inbox)
		answer(http.StatusOK, ev.Event, "unknown_inbox")
		return
	}
	s.notify(tenant)
	if info, ok := r.Context().Value(infoKey).(*reqInfo); ok {
		info.tenantID = tenant
	}
	answer(http.StatusAccepted, ev.Event, "queued")
}

// webhookPayload is what we read of a delivery: message events carry the inbox as inbox.id (and
// conversation.inbox_id), conversation events are the conversation itself (inbox_id).
type webhookPayload struct {
	Event   string  `json:"event"`
	InboxID flexInt `json:"inbox_id"`
	Inbox   *struct {
		ID flexInt `json:"id"`
	} `json:"inbox"`
	Conversation *struct {
		InboxID flexInt `json:"inbox_id"`
	} `json:"conversation"`
}

func (p webhookPayload) inboxID() int64 {
	switch {
	case p.InboxID > 0:
		return int64(p.InboxID)
	case p.Inbox != nil && p.Inbox.ID > 0:
		return int64(p.Inbox.ID)
	case p.Conversation != nil && p.Conversation.InboxID > 0:
		return int64(p.Conversation.InboxID)
	}
	return 0
}

// flexInt reads an id Chatwoot sends as a number or as a numeric string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(bytes.Trim(b, `"`))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("id is not a whole number")
	}
	*f = flexInt(n)
	return nil
}

// inboxMap caches which tenant syncs each Chatwoot inbox: a delivery per message must not cost a
// query. An inbox it does not know reloads the map, at most once per second (a newly mapped inbox
// is found at once, a flood of unknown ones costs one query a second); the map is reloaded anyway
// after a minute, so an unmapped inbox stops syncing its former tenant.
type inboxMap struct {
	mu       sync.Mutex
	tenants  map[int64]int64
	loadedAt time.Time
}

func (m *inboxMap) tenantOf(ctx context.Context, db *pg.DB, inbox int64) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	age := time.Since(m.loadedAt)
	if t, ok := m.tenants[inbox]; ok && age < time.Minute {
		return t, nil
	}
	if m.tenants != nil && age < time.Second {
		return m.tenants[inbox], nil
	}
	tenants := map[int64]int64{}
	err := db.InReadTx(ctx, pg.System("webhook"), func(tx pg.Tx) error {
		rows, err := tx.WebhookInboxTenants(ctx)
		for _, row := range rows {
			tenants[int64(row.InboxID)] = row.TenantID
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	m.tenants, m.loadedAt = tenants, time.Now()
	return tenants[inbox], nil
}
