package web

import (
	"net/http"

	"github.com/geniai/analytics/internal/dbsqlc"
	"github.com/geniai/analytics/internal/digest"
	"github.com/geniai/analytics/internal/pg"
)

// The unsubscribe link of a digest: no sign-in, the key in the link is the credential. GET asks
// for confirmation (link scanners follow links and must not unsubscribe anyone); POST, from the
// page or from a mail client's one-click List-Unsubscribe-Post, removes the subscription.

// UnsubscribePage is the data of the unsubscribe page.
type UnsubscribePage struct {
	Page
	Action    string
	Frequency string
	Email     string
	Tenant    string
	Invalid   bool
	Done      bool
}

func (s *Server) unsubscribeLookup(r *http.Request) (UnsubscribePage, bool, error) {
	p := UnsubscribePage{Page: s.newPage(r, "unsubscribe.title"), Action: "/unsubscribe/" + r.PathValue("token")}
	tid, id, key, ok := digest.ParseLink(r.PathValue("token"))
	if !ok {
		p.Invalid = true
		return p, false, nil
	}
	err := s.db.InReadTx(r.Context(), pg.Anon(s.clientIP(r), userAgent(r)), func(tx pg.Tx) error {
		row, err := tx.DigestUnsubscribeLookup(r.Context(), dbsqlc.DigestUnsubscribeLookupParams{TenantID: tid, ID: id, Key: key})
		if pg.IsNoRows(err) {
			p.Invalid = true
			return nil
		}
		p.Frequency, p.Email, p.Tenant = row.Frequency, row.Email, row.TenantName
		return err
	})
	return p, !p.Invalid, err
}

func (s *Server) unsubscribeForm(w http.ResponseWriter, r *http.Request) error {
	p, ok, err := s.unsubscribeLookup(r)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusNotFound
	}
	return s.render(w, r, status, "unsubscribe", p)
}

func (s *Server) unsubscribeSubmit(w http.ResponseWriter, r *http.Request) error {
	p, ok, err := s.unsubscribeLookup(r)
	if err != nil {
		return err
	}
	if !ok {
		// Already removed (a second click, or the one-click POST came first): the wish is met.
		p.Invalid, p.Done = false, true
		return s.render(w, r, http.StatusOK, "unsubscribe", p)
	}
	tid, id, key, _ := digest.ParseLink(r.PathValue("token"))
	err = s.db.InTx(r.Context(), pg.Anon(s.clientIP(r), userAgent(r)), func(tx pg.Tx) error {
		_, err := tx.DigestUnsubscribeByLink(r.Context(), dbsqlc.DigestUnsubscribeByLinkParams{TenantID: tid, ID: id, Key: key})
		return err
	})
	if err != nil {
		return err
	}
	p.Done = true
	return s.render(w, r, http.StatusOK, "unsubscribe", p)
}
