package account

import (
	"fmt"

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

func roleName(lang, role string) string {
	names := map[string][2]string{
		"client": {"leitura do painel", "dashboard reader"}, "admin": {"administrador", "administrator"},
		"super_admin": {"equipe GeniAI (administrador)", "GeniAI staff (administrator)"},
		"support":     {"equipe GeniAI (suporte)", "GeniAI staff (support)"},
	}
	n, ok := names[role]
	if !ok {
		return role
	}
	if lang == "en" {
		return n[1]
	}
	return n[0]
}

func invitationMessage(in Invitation, brand mail.Brand, link string) (rendered, error) {
	p := mail.Page{Lang: in.Language, Brand: brand}
	var subject string
	hello := in.FullName
	if in.Language == "en" {
		if hello == "" {
			hello = "Hello"
		} else {
			hello = "Hello, " + hello
		}
		subject = fmt.Sprintf("Your access to %s analytics", brand.Name)
		p.Preheader = "Set your password to open the dashboard."
		p.Title = fmt.Sprintf("You have been invited to %s analytics", brand.Name)
		p.Intro = []string{hello + ".", fmt.Sprintf("You now have access as %s. Choose your password to sign in with %s.", roleName("en", in.Role), in.Email)}
		if in.InvitedBy != "" {
			p.Intro[1] = fmt.Sprintf("%s gave you access as %s. Choose your password to sign in with %s.", in.InvitedBy, roleName("en", in.Role), in.Email)
		}
		p.Button = &mail.Button{Label: "Set my password", URL: link}
		p.After = []string{"The link works once and expires in 24 hours. If you were not expecting this, ignore this message: nothing happens without the link."}
		p.Footer = []string{"Sent by GeniAI Analytics on behalf of " + brand.Name + "."}
	} else {
		if hello == "" {
			hello = "Olá"
		} else {
			hello = "Olá, " + hello
		}
		subject = fmt.Sprintf("Seu acesso às análises de %s", brand.Name)
		p.Preheader = "Defina sua senha para abrir o painel."
		p.Title = fmt.Sprintf("Você foi convidado para as análises de %s", brand.Name)
		p.Intro = []string{hello + ".", fmt.Sprintf("Você agora tem acesso como %s. Escolha sua senha para entrar com %s.", roleName("pt-BR", in.Role), in.Email)}
		if in.InvitedBy != "" {
			p.Intro[1] = fmt.Sprintf("%s deu a você acesso como %s. Escolha sua senha para entrar com %s.", in.InvitedBy, roleName("pt-BR", in.Role), in.Email)
		}
		p.Button = &mail.Button{Label: "Definir minha senha", URL: link}
		p.After = []string{"O link funciona uma vez e expira em 24 horas. Se você não esperava este convite, ignore esta mensagem: nada acontece sem o link."}
		p.Footer = []string{"Enviado pelo GeniAI Analytics em nome de " + brand.Name + "."}
	}
	return render(p, subject)
}

func resetMessage(lang, name string, brand mail.Brand, link string) (rendered, error) {
	p := mail.Page{Lang: lang, Brand: brand}
	var subject string
	if lang == "en" {
		subject = "Reset your password"
		hello := "Hello."
		if name != "" {
			hello = "Hello, " + name + "."
		}
		p.Preheader = "A link to choose a new password, valid for 1 hour."
		p.Title = "Choose a new password"
		p.Intro = []string{hello, "Someone (hopefully you) asked to reset the password of your account."}
		p.Button = &mail.Button{Label: "Choose a new password", URL: link}
		p.After = []string{"The link works once and expires in 1 hour. If you did not ask for it, ignore this message: your password stays as it is."}
		p.Footer = []string{"Sent by GeniAI Analytics for " + brand.Name + "."}
	} else {
		subject = "Redefinição de senha"
		hello := "Olá."
		if name != "" {
			hello = "Olá, " + name + "."
		}
		p.Preheader = "Um link para escolher uma nova senha, válido por 1 hora."
		p.Title = "Escolha uma nova senha"
		p.Intro = []string{hello, "Alguém (esperamos que você) pediu para redefinir a senha da sua conta."}
		p.Button = &mail.Button{Label: "Escolher nova senha", URL: link}
		p.After = []string{"O link funciona uma vez e expira em 1 hora. Se não foi você, ignore esta mensagem: sua senha continua a mesma."}
		p.Footer = []string{"Enviado pelo GeniAI Analytics para " + brand.Name + "."}
	}
	return render(p, subject)
}
