package web

import "net/http"

// The client admin's destructive actions in /settings ask first too, on a page of the client's
// own layout: a POST without confirm=1 changes nothing and answers what will happen, whose
// button posts the same form again with confirm=1; "Cancelar" goes back to /settings.

// SettingsConfirmView is that page.
type SettingsConfirmView struct {
	Page
	Question    string
	Consequence string
	Button      string
	Action      string
	Fields      []ConfirmField
	Back        string
}

// settingsConfirmed is confirmed for /settings: true when the POST carries confirm=1; otherwise
// it has answered the confirmation page and the handler must return err.
func (s *Server) settingsConfirmed(w http.ResponseWriter, r *http.Request, question, consequence, button string) (bool, error) {
	if r.PostFormValue("confirm") == "1" {
		return true, nil
	}
	v := SettingsConfirmView{Page: s.newPage(r, "settings.title"), Question: question, Consequence: consequence, Button: button,
		Action: r.URL.Path, Fields: confirmFields(r), Back: "/settings#users"}
	return false, s.render(w, r, http.StatusOK, "settings_confirm", v)
}

// settingsNotice keeps a sentence for the next /settings view (post/redirect/get): shown once.
func (s *Server) settingsNotice(r *http.Request, text string) {
	s.sessions.Put(r.Context(), keyFlash+"_settings", text)
}
