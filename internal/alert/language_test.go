package alert_test

import (
	"context"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/alert"
	"github.com/geniai/analytics/internal/auth"
	"github.com/geniai/analytics/internal/pgtest"
)

// Alert e-mails are written in each recipient's stored language: an address that is a user of
// the tenant with English gets English (subject, text, HTML and button); an address that is no
// user of the tenant — here a user of another tenant who chose English — gets Portuguese.
// Before, every alert e-mail was Portuguese.
func TestAlertEmailsInTheRecipientsLanguage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := pgtest.New(t)
	su := pgtest.Conn(t, env.SuperURL)
	tid := seed(t, su, "https://hooks.alertas.test/geniai")
	hash, err := auth.Hash("senha-qualquer-123", auth.MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	var other int64
	if err := su.QueryRow(ctx, "INSERT INTO app.tenants (slug, name) VALUES ('outra', 'Outra') RETURNING id").Scan(&other); err != nil {
		t.Fatal(err)
	}
	if _, err := su.Exec(ctx, `INSERT INTO app.users (tenant_id, email, password_hash, role, language) VALUES
		($1, 'recepcao@alertas.test', $3, 'client', 'en'), ($2, 'gerente@alertas.test', $3, 'client', 'en')`, tid, other, hash); err != nil {
		t.Fatal(err)
	}
	ev := &alert.Evaluator{DB: env.DB, MailFrom: "GeniAI <alertas@geniai.test>", PublicURL: "https://analytics.geniai.test",
		ChatwootURL: "https://chat.geniai.test"}
	if n, err := ev.Tenant(ctx, tid); err != nil || n != 2 {
		t.Fatalf("fired %d (%v), want 2", n, err)
	}
	read := func(to string) (subject, text, html string) {
		t.Helper()
		if err := su.QueryRow(ctx, `SELECT subject, text_body, html_body FROM app.mail_outbox
			WHERE tenant_id = $1 AND kind = 'alert.window' AND to_address = $2`, tid, to).Scan(&subject, &text, &html); err != nil {
			t.Fatal(err)
		}
		return
	}
	subject, text, html := read("recepcao@alertas.test")
	if subject != "WhatsApp window closes in 1 h: Contato 3 (conversation #103)" {
		t.Errorf("English recipient's subject %q", subject)
	}
	for _, want := range []string{"nobody has answered", "Inbox: WhatsApp Recepção", "Open in Chatwoot: https://chat.geniai.test/app/accounts/1/conversations/103", "GeniAI Analytics alerts"} {
		if !strings.Contains(text, want) {
			t.Errorf("English text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(html, `lang="en"`) || !strings.Contains(html, "Open in Chatwoot") || strings.Contains(html, "Abrir no Chatwoot") {
		t.Errorf("English HTML part is not English:\n%.1500s", html)
	}
	subject, text, _ = read("gerente@alertas.test")
	if subject != "Janela do WhatsApp fecha em 1 h: Contato 3 (conversa #103)" || !strings.Contains(text, "Caixa de entrada: WhatsApp Recepção") {
		t.Errorf("another tenant's user's language leaked into this tenant's alert: %q\n%s", subject, text)
	}
}
