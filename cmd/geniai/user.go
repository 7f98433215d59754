package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/geniai/analytics/internal/admin"
	"github.com/geniai/analytics/internal/apperr"
	"github.com/geniai/analytics/internal/pg"
)

func init() {
	register("user", "usuários: create | set-password | list | update | unlock", cmdUser)
}

// readPassword reads one line from stdin when it is not a terminal; "" means "generate one".
func readPassword(r io.Reader) (string, error) {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return "", nil // a terminal: generate rather than echo a typed password
		}
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, "uso: geniai user create --tenant SLUG --email E --role R [--name N] [--password-stdin] | geniai user set-password --email E [--password-stdin]")
		return errUsage
	}
	switch args[0] {
	case "create":
		fs := flags(e, "user create")
		var in admin.UserInput
		fs.StringVar(&in.TenantSlug, "tenant", "", "slug do cliente (obrigatório)")
		fs.StringVar(&in.Email, "email", "", "e-mail de acesso (obrigatório)")
		fs.StringVar(&in.Role, "role", "", "papel: client, admin, super_admin ou support (obrigatório)")
		fs.StringVar(&in.FullName, "name", "", "nome completo")
		fromStdin := fs.Bool("password-stdin", false, "ler a senha da entrada padrão (senão uma senha é gerada e mostrada uma vez)")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if in.TenantSlug == "" || in.Email == "" || in.Role == "" {
			return apperr.New(apperr.Invalid, "informe --tenant, --email e --role")
		}
		if *fromStdin {
			pw, err := readPassword(e.stdin)
			if err != nil {
				return err
			}
			if pw == "" {
				return apperr.New(apperr.Invalid, "a entrada padrão não trouxe uma senha")
			}
			in.Password = pw
		}
		svc, done, err := adminService(ctx, e)
		if err != nil {
			return err
		}
		defer done()
		u, password, err := svc.CreateUser(ctx, pg.System("cli"), in)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "usuário %s criado (id %d, papel %s)\n", u.Email, u.ID, u.Role)
		if in.Password == "" {
			fmt.Fprintf(e.stdout, "senha: %s\n(guarde agora: ela não será mostrada de novo)\n", password)
		}
		return nil
	case "set-password":
		fs := flags(e, "user set-password")
		email := fs.String("email", "", "e-mail do usuário (obrigatório)")
		fromStdin := fs.Bool("password-stdin", false, "ler a senha da entrada padrão (senão uma senha é gerada e mostrada uma vez)")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *email == "" {
			return apperr.New(apperr.Invalid, "informe --email")
		}
		pw := ""
		if *fromStdin {
			var err error
			if pw, err = readPassword(e.stdin); err != nil {
				return err
			}
			if pw == "" {
				return apperr.New(apperr.Invalid, "a entrada padrão não trouxe uma senha")
			}
		}
		svc, done, err := adminService(ctx, e)
		if err != nil {
			return err
		}
		defer done()
		password, err := svc.SetPassword(ctx, pg.System("cli"), *email, pw)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "senha de %s trocada; as sessões abertas desse usuário foram encerradas\n", strings.ToLower(*email))
		if pw == "" {
			fmt.Fprintf(e.stdout, "senha: %s\n(guarde agora: ela não será mostrada de novo)\n", password)
		}
		return nil
	}
	if ok, err := userAction(ctx, e, args[0], args[1:]); ok {
		return err
	}
	return apperr.New(apperr.Invalid, "subcomando desconhecido: user %s", args[0])
}
