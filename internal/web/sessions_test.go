package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/pg"
)

const (
	uaWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	uaIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// sessionIDs lists the ids of a user's session rows, oldest first.
func (h *harness) sessionIDs(userID int64) []int64 {
	h.t.Helper()
	rows, err := h.super.Query(context.Background(), `SELECT id FROM app.user_sessions WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// TestSessionsHashedListedAndEnded is the review's reproduction: tokens were stored in clear in
// public.sessions, and nobody could see or end their other sessions. The store now holds hashes;
// "Minha conta" lists the user's sessions (device, IP, last activity) and ends one, or all others,
// audited; nobody ends someone else's.
func TestSessionsHashedListedAndEnded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	ana := h.user(tid, "ana@acme.com.br", "client", pw)
	h.user(tid, "bia@acme.com.br", "client", pw)
	desk, phone, third := h.browser(), h.browser(), h.browser()
	desk.ua, phone.ua = uaWindows, uaIPhone
	for _, b := range []*browser{desk, phone, third} {
		b.mustLogin("ana@acme.com.br", pw, "/dashboard")
	}
	bia := h.browser()
	bia.mustLogin("bia@acme.com.br", pw, "/dashboard")

	// No token in clear anywhere in the database.
	for _, b := range []*browser{desk, phone, third, bia} {
		var clear, hashed int
		if err := h.super.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM public.sessions WHERE token = $1),
			(SELECT count(*) FROM public.sessions WHERE token = $2)`, b.sessionCookie(), storeKey(b.sessionCookie())).Scan(&clear, &hashed); err != nil || clear != 0 || hashed != 1 {
			t.Fatalf("store rows: %d in clear, %d hashed (%v)", clear, hashed, err)
		}
	}

	page := desk.get("/account")
	expectStatus(t, page, 200, "Sessões ativas")
	for _, want := range []string{"Chrome · Windows", "Safari · iPhone", "esta sessão", "127.0.0.1", "Encerrar todas as outras", "ana@acme.com.br"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("account page without %q", want)
		}
	}
	if strings.Count(page.body, `action="/account/sessions/`) != 3 { // two "encerrar" and "todas as outras"
		t.Errorf("end buttons: %d", strings.Count(page.body, `action="/account/sessions/`))
	}

	ids := h.sessionIDs(ana) // desk, phone, third
	// Someone else's session, or one that is gone: 404, nothing ends.
	biaIDs := h.sessionIDs(h.userID("bia@acme.com.br"))
	expectStatus(t, desk.post("/account/sessions/"+strconv.FormatInt(biaIDs[0], 10)+"/end", nil), http.StatusNotFound, "")
	expectStatus(t, bia.get("/dashboard"), 200, "Escola acme")

	// "Encerrar" the phone: it is signed out at its next request.
	expectRedirect(t, desk.post("/account/sessions/"+strconv.FormatInt(ids[1], 10)+"/end", nil), "/account?ended=1")
	expectRedirect(t, phone.get("/dashboard"), "/login")
	expectStatus(t, desk.get("/dashboard"), 200, "Escola acme")
	if n := h.auditCount("session.end", ana); n != 1 {
		t.Fatalf("session.end events: %d", n)
	}

	// "Encerrar todas as outras" keeps the current one only.
	phone.mustLogin("ana@acme.com.br", pw, "/dashboard")
	expectRedirect(t, desk.post("/account/sessions/end-others", nil), "/account?ended=2")
	expectRedirect(t, phone.get("/dashboard"), "/login")
	expectRedirect(t, third.get("/dashboard"), "/login")
	expectStatus(t, desk.get("/account"), 200, "esta sessão")
	if n := len(h.sessionIDs(ana)); n != 1 {
		t.Fatalf("%d sessions left", n)
	}
	if n := h.auditCount("session.end_others", ana); n != 1 {
		t.Fatalf("session.end_others events: %d", n)
	}
	expectStatus(t, bia.get("/dashboard"), 200, "Escola acme")
}

func (h *harness) userID(email string) int64 {
	h.t.Helper()
	var id int64
	if err := h.super.QueryRow(context.Background(), `SELECT id FROM app.users WHERE email = $1`, email).Scan(&id); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// TestSessionRowsAreTheUsersOwn: the session list is per user, not per tenant: a tenant admin
// and a super_admin read their own sessions' rows and no one else's, and no role reads the
// store keys.
func TestSessionRowsAreTheUsersOwn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tid := h.tenant("acme", "active", nil)
	admin := h.user(tid, "dona@acme.com.br", "admin", pw)
	h.user(tid, "ana@acme.com.br", "client", pw)
	root := h.user(h.platform(), "root@geniai.com.br", "super_admin", pw)
	for _, e := range []string{"dona@acme.com.br", "ana@acme.com.br", "root@geniai.com.br"} {
		h.browser().mustLogin(e, pw, map[bool]string{true: "/admin", false: "/dashboard"}[strings.HasPrefix(e, "root")])
	}
	ctx := context.Background()
	for _, c := range []struct {
		p    pg.Principal
		want int64
	}{
		{pg.User(tid, admin, pg.AppAdmin, "", ""), admin},
		{pg.User(h.platform(), root, pg.AppSuperAdmin, "", ""), root},
	} {
		if err := h.env.DB.InReadTx(ctx, c.p, func(tx pg.Tx) error {
			rows, err := tx.Raw.Query(ctx, `SELECT user_id FROM app.user_sessions`)
			if err != nil {
				return err
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var uid int64
				_ = rows.Scan(&uid)
				if uid != c.want {
					t.Errorf("%s sees a session of user %d", c.p.Role, uid)
				}
				n++
			}
			if n != 1 {
				t.Errorf("%s sees %d session rows, want its own 1", c.p.Role, n)
			}
			return rows.Err()
		}); err != nil {
			t.Fatal(err)
		}
		err := h.env.DB.InReadTx(ctx, c.p, func(tx pg.Tx) error {
			_, err := tx.Raw.Exec(ctx, `SELECT token_hash FROM app.user_sessions`)
			return err
		})
		if !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("%s reads store keys: %v", c.p.Role, err)
		}
	}
}
