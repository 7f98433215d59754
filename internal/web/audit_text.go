package web

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/geniai/analytics/internal/dbsqlc"
)

// The audit log for people: each event as a sentence with the real names ("Ana Souza suspendeu
// Academia Força Total"), and a before/after of the fields a person cares about, in words. The
// meaning of an event (its kind) and the list of changed fields come from SQL (audit.event_kind,
// audit.event_changes); this file only words them, in the reader's language and zone.

// AuditEntry is one event as the panel shows it.
type AuditEntry struct {
	dbsqlc.AuditSearchRow
	Sentence string
	Changes  []AuditChange
}

// AuditChange is one field's before and after, in words ("—" for none).
type AuditChange struct {
	Field, Before, After string
}

// translator is the catalogue lookup of the reader's language.
type translator func(key string, args ...any) string

// auditWords turns events into entries for a reader of lang in zone.
func auditWords(tr translator, lang string, zone *time.Location, rows []dbsqlc.AuditSearchRow) []AuditEntry {
	out := make([]AuditEntry, 0, len(rows))
	for _, r := range rows {
		out = append(out, AuditEntry{AuditSearchRow: r, Sentence: auditSentence(tr, r), Changes: auditChanges(tr, lang, zone, r)})
	}
	return out
}

// auditActor is who acted: their name (or e-mail), else what kind of actor it was.
func auditActor(tr translator, r dbsqlc.AuditSearchRow) string {
	if r.ActorName != "" {
		return r.ActorName
	}
	if r.ActorEmail != "" {
		return r.ActorEmail
	}
	if r.ActorRole != nil {
		switch *r.ActorRole {
		case "cli", "etl", "anon":
			return tr("audit.actor." + *r.ActorRole)
		}
	}
	return tr("audit.actor.system")
}

// auditSubject is the person or inbox an event is about: "Name (e-mail)", the e-mail alone, or
// the inbox's name.
func auditSubject(r dbsqlc.AuditSearchRow) string {
	switch {
	case r.SubjectName != "" && r.SubjectEmail != "":
		return r.SubjectName + " (" + r.SubjectEmail + ")"
	case r.SubjectEmail != "":
		return r.SubjectEmail
	case r.SubjectName != "":
		return r.SubjectName
	case r.InboxName != "":
		return r.InboxName
	case r.EntityID != nil && r.Kind != "view.as_client":
		return "#" + *r.EntityID
	}
	return "—"
}

// auditClient is the client an event concerns; GeniAI for the platform's own events.
func auditClient(r dbsqlc.AuditSearchRow) string {
	if r.TenantIsPlatform || r.TenantName == "" {
		return "GeniAI"
	}
	return r.TenantName
}

// auditSentence words one event: who did what to whom, where.
func auditSentence(tr translator, r dbsqlc.AuditSearchRow) string {
	what := ""
	if r.Kind == "view.as_client" && r.EntityID != nil {
		what = auditViewed(tr, *r.EntityID)
	}
	if r.Kind == "other" {
		return tr("audit.kind.other", auditActor(tr, r), auditClient(r), auditSubject(r), what, r.Action)
	}
	return tr("audit.kind."+r.Kind, auditActor(tr, r), auditClient(r), auditSubject(r), what, r.Action)
}

// auditViewed words what staff opened as the client: "o painel", "a conversa 123".
func auditViewed(tr translator, entity string) string {
	// entity is "‹tenant id›:‹what›", what being "dashboard", "conversation:123"…
	if id, rest, ok := strings.Cut(entity, ":"); ok && id != "" && strings.Trim(id, "0123456789") == "" {
		entity = rest
	}
	name, arg, _ := strings.Cut(entity, ":")
	switch name {
	case "dashboard", "api", "conversations":
		return tr("audit.viewed." + name)
	case "conversation":
		return tr("audit.viewed.conversation", arg)
	case "export":
		return tr("audit.viewed.export", arg)
	}
	return entity
}

// auditChanges words the changed fields (audit.event_changes) of an event.
func auditChanges(tr translator, lang string, zone *time.Location, r dbsqlc.AuditSearchRow) []AuditChange {
	var raw []struct {
		Field  string          `json:"field"`
		Before json.RawMessage `json:"before"`
		After  json.RawMessage `json:"after"`
	}
	if len(r.Changes) == 0 || json.Unmarshal(r.Changes, &raw) != nil {
		return nil
	}
	out := make([]AuditChange, 0, len(raw))
	for _, c := range raw {
		out = append(out, AuditChange{
			Field:  auditFieldName(tr, c.Field),
			Before: auditValue(tr, lang, zone, c.Field, c.Before),
			After:  auditValue(tr, lang, zone, c.Field, c.After),
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

// auditFieldName is a field's label; a column without one reads as its name in words.
func auditFieldName(tr translator, field string) string {
	key := "audit.field." + field
	if t := tr(key); t != key {
		return t
	}
	return strings.ReplaceAll(field, "_", " ")
}

// auditValue words one JSON value of field.
func auditValue(tr translator, lang string, zone *time.Location, field string, v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return "—"
	}
	var x any
	if json.Unmarshal(v, &x) != nil {
		return string(v)
	}
	switch t := x.(type) {
	case bool:
		if t {
			return tr("yes")
		}
		return tr("no")
	case float64:
		switch field {
		case "sla_seconds":
			return formatDuration(lang, &t)
		case "default_period_days":
			return formatInt(int64(t), lang) + " " + pluralDays(tr, int(t))
		}
		return formatInt(int64(t), lang)
	case []any:
		if len(t) == 0 {
			return "—"
		}
		parts := make([]string, 0, len(t))
		for _, e := range t {
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, ", ")
	case string:
		if t == "" {
			return "—"
		}
		switch field {
		case "status":
			if k := "tenant." + t; tr(k) != k {
				return tr(k)
			}
		case "role":
			return roleName(tr, t)
		case "plan":
			if k := "plan." + t; tr(k) != k {
				return tr(k)
			}
		case "channel_type":
			return channelName(t)
		}
		if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return formatAt(lang, ts, zone)
		}
		if strings.HasSuffix(field, "_at") || strings.HasSuffix(field, "_until") {
			if ts, err := time.Parse("2006-01-02T15:04:05.999999-07:00", t); err == nil {
				return formatAt(lang, ts, zone)
			}
		}
		return t
	case map[string]any:
		b, _ := json.Marshal(t)
		return string(b)
	}
	return string(v)
}

// pluralDays is "dia" or "dias".
func pluralDays(tr translator, n int) string {
	if n == 1 {
		return tr("time.day")
	}
	return tr("time.days")
}

// roleName is a role as people read it everywhere: the one list of role names.
func roleName(tr translator, role string) string {
	return tr("role." + role)
}

// newTranslator is the catalogue lookup of lang; args fill the entry's indexed verbs (%[1]s).
func newTranslator(lang string) translator {
	return func(key string, args ...any) string {
		t := translate(lang, key)
		if len(args) == 0 || t == key {
			return t
		}
		return fmt.Sprintf(t, args...)
	}
}

// auditChangesText is an event's changes on one line, for the exports: "Situação: Ativo → Suspenso".
func auditChangesText(cs []AuditChange) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, c.Field+": "+c.Before+" → "+c.After)
	}
	return strings.Join(parts, "; ")
}
