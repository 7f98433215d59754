package account

import (
	"github.com/geniai/analytics/internal/locale"
	"github.com/geniai/analytics/internal/mail"
)

// rendered is a message ready for the queue.
type rendered struct {
	Subject, Text, HTML string
}

func render(p mail.Page, subject string) (rendered, error) {
	html, err := p.HTML()
	if err != nil {
		return rendered{}, err
	}
	return rendered{Subject: subject, Text: p.Text(""), HTML: html}, nil
}

// roleName is what a role is called in an e-mail, in lang.
func roleName(lang, role string) string {
	key := "mail.role." + role
	if !locale.Has(locale.PT, key) {
		return role
	}
	return locale.Translate(lang, key)
}

// hello greets name, or nobody in particular.
func hello(lang, name string) string {
	if name == "" {
		return locale.Translate(lang, "mail.hello")
	}
	return locale.Translate(lang, "mail.hello_name", name)
}

func invitationMessage(in Invitation, brand mail.Brand, link string) (rendered, error) {
	lang := in.Language
	tr := func(key string, args ...any) string { return locale.Translate(lang, key, args...) }
	p := mail.Page{Lang: lang, Brand: brand}
	p.Preheader = tr("mail.invitation.preheader")
	p.Title = tr("mail.invitation.title", brand.Name)
	access := tr("mail.invitation.access", roleName(lang, in.Role), in.Email)
	if in.InvitedBy != "" {
		access = tr("mail.invitation.access_by", in.InvitedBy, roleName(lang, in.Role), in.Email)
	}
	p.Intro = []string{hello(lang, in.FullName) + ".", access}
	p.Button = &mail.Button{Label: tr("mail.invitation.button"), URL: link}
	p.After = []string{tr("mail.invitation.after")}
	p.Footer = []string{tr("mail.invitation.footer", brand.Name)}
	return render(p, tr("mail.invitation.subject", brand.Name))
}

func resetMessage(lang, name string, brand mail.Brand, link string) (rendered, error) {
	return resetByMessage(lang, name, "", brand, link)
}

// resetByMessage is the reset e-mail; by, when set, names who sent the link for the person.
func resetByMessage(lang, name, by string, brand mail.Brand, link string) (rendered, error) {
	tr := func(key string, args ...any) string { return locale.Translate(lang, key, args...) }
	p := mail.Page{Lang: lang, Brand: brand}
	p.Preheader = tr("mail.reset.preheader")
	p.Title = tr("mail.reset.title")
	p.Intro = []string{hello(lang, name) + ".", tr("mail.reset.intro")}
	if by != "" {
		p.Intro[1] = tr("mail.reset.intro_by", by)
	}
	p.Button = &mail.Button{Label: tr("mail.reset.button"), URL: link}
	p.After = []string{tr("mail.reset.after")}
	p.Footer = []string{tr("mail.reset.footer", brand.Name)}
	return render(p, tr("mail.reset.subject"))
}
