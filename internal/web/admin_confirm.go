package web

import (
	"net/http"
	"sort"
)

// Destructive one-click actions of the staff panel (reset a password, unlink an inbox, suspend
// or cancel a client, deactivate a user, free an address) take two steps and need no
// JavaScript: a POST without confirm=1 changes nothing and answers a page that states what will
// happen, whose button posts the same form again with confirm=1; "Cancelar" goes back.

// ConfirmView is that page.
type ConfirmView struct {
	StaffPage
	Question    string // what is about to happen, in a sentence
	Consequence string
	Button      string
	Action      string // the same path, posted again
	Fields      []ConfirmField
	Back        string
}

// ConfirmField is a field of the original form, carried to the confirming POST.
type ConfirmField struct{ Name, Value string }

// confirmed reports whether the POST carries confirm=1; when it does not, it has answered the
// confirmation page (nothing changed) and the handler must return err.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request, back, title, question, consequence, button string) (bool, error) {
	if r.PostFormValue("confirm") == "1" {
		return true, nil
	}
	v := ConfirmView{StaffPage: s.staffPage(r, title), Question: question, Consequence: consequence, Button: button,
		Action: r.URL.Path, Fields: confirmFields(r), Back: back}
	return false, s.render(w, r, http.StatusOK, "admin_confirm", v)
}

// confirmFields are the fields of the original form but confirm, in name order.
func confirmFields(r *http.Request) []ConfirmField {
	var out []ConfirmField
	names := make([]string, 0, len(r.PostForm))
	for k := range r.PostForm {
		if k != "confirm" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		for _, val := range r.PostForm[k] {
			out = append(out, ConfirmField{Name: k, Value: val})
		}
	}
	return out
}

// staffNotice keeps a sentence for the next staff page view (post/redirect/get): shown once.
func (s *Server) staffNotice(r *http.Request, text string) {
	s.sessions.Put(r.Context(), keyFlash+"_staff", text)
}
