package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/geniai/analytics/internal/mailcatcher"
)

func init() {
	register("mailcatcher", "caixa de teste: servidor SMTP local e página web com o que recebeu", cmdMailcatcher)
}

// cmdMailcatcher runs the local mail catcher of `make run`: an SMTP server that keeps what it
// receives and a page that shows it. It delivers nothing.
func cmdMailcatcher(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "mailcatcher")
	smtpAddr := fs.String("smtp", "127.0.0.1:1025", "endereço SMTP (sem TLS; só para esta máquina)")
	webAddr := fs.String("http", "127.0.0.1:8025", "endereço da página web")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := mailcatcher.Start(mailcatcher.Options{Addr: *smtpAddr})
	if err != nil {
		return fmt.Errorf("SMTP em %s: %w", *smtpAddr, err)
	}
	defer c.Close()
	ln, err := net.Listen("tcp", *webAddr)
	if err != nil {
		return fmt.Errorf("página em %s: %w", *webAddr, err)
	}
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(e.stdout, "caixa de teste: http://%s  (SMTP em %s)\n", ln.Addr(), c.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
