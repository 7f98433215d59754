package web

// Text of the pages that e-mail links lead to, and of "Esqueci minha senha", merged into the
// catalog at start-up.
func init() {
	for lang, m := range map[string]map[string]string{
		langPT: {
			"login.forgot":         "Esqueci minha senha",
			"forgot.title":         "Esqueci minha senha",
			"forgot.intro":         "Informe o e-mail da sua conta. Se ele tiver uma conta, enviaremos um link para você escolher uma nova senha.",
			"forgot.submit":        "Enviar link",
			"forgot.sent":          "Pronto. Se houver uma conta com esse e-mail, enviamos um link para escolher uma nova senha. Ele vale por 1 hora.",
			"forgot.sent_help":     "Não chegou em alguns minutos? Confira a caixa de spam e se o endereço está certo. Por segurança, não dizemos se um e-mail tem conta.",
			"forgot.back":          "Voltar para a entrada",
			"forgot.no_mail":       "Este servidor não envia e-mails. Peça ao administrador da sua empresa (ou à equipe GeniAI) para redefinir a sua senha.",
			"forgot.throttled":     "Muitos pedidos de recuperação a partir da sua rede. Tente de novo em uma hora.",
			"forgot.invalid_email": "Informe um e-mail válido.",
			"reset.title":          "Escolha uma nova senha",
			"reset.account":        "Conta:",
			"reset.submit":         "Salvar nova senha",
			"reset.invalid":        "Este link não vale mais: ele expirou (vale por 1 hora), já foi usado, ou a senha foi trocada depois dele.",
			"reset.again":          "Pedir um novo link",
			"reset.done":           "Senha redefinida. Entre com a nova senha.",
			"invite.title":         "Defina sua senha",
			"invite.intro":         "Você foi convidado para o painel de",
			"invite.submit":        "Criar minha conta",
			"invite.invalid":       "Este convite não vale mais: ele já foi usado ou foi cancelado. Se você já definiu sua senha, é só entrar.",
			"invite.expired":       "Este convite expirou (vale por 24 horas). Peça a quem convidou você que envie um novo.",
			"invite.done":          "Conta criada. Entre com o seu e-mail e a senha que você escolheu.",
		},
		langEN: {
			"login.forgot":         "Forgot my password",
			"forgot.title":         "Forgot my password",
			"forgot.intro":         "Enter your account's e-mail. If it has an account, we will send a link to choose a new password.",
			"forgot.submit":        "Send link",
			"forgot.sent":          "Done. If there is an account with that e-mail, we sent a link to choose a new password. It is valid for 1 hour.",
			"forgot.sent_help":     "Nothing after a few minutes? Check your spam folder and the address. For your security we never say whether an e-mail has an account.",
			"forgot.back":          "Back to sign in",
			"forgot.no_mail":       "This server sends no e-mail. Ask your company's administrator (or the GeniAI team) to reset your password.",
			"forgot.throttled":     "Too many reset requests from your network. Try again in an hour.",
			"forgot.invalid_email": "Enter a valid e-mail.",
			"reset.title":          "Choose a new password",
			"reset.account":        "Account:",
			"reset.submit":         "Save new password",
			"reset.invalid":        "This link is no longer valid: it expired (it lasts 1 hour), was already used, or the password changed after it.",
			"reset.again":          "Ask for a new link",
			"reset.done":           "Password reset. Sign in with your new password.",
			"invite.title":         "Set your password",
			"invite.intro":         "You were invited to the dashboard of",
			"invite.submit":        "Create my account",
			"invite.invalid":       "This invitation is no longer valid: it was already used or withdrawn. If you already set your password, just sign in.",
			"invite.expired":       "This invitation expired (it lasts 24 hours). Ask whoever invited you to send a new one.",
			"invite.done":          "Account created. Sign in with your e-mail and the password you chose.",
		},
	} {
		for k, v := range m {
			catalog[lang][k] = v
		}
	}
}
