package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/accounts"
	"github.com/warden-rpc/warden/console"
)

// Sign-in limits of the web console, per client address: stricter than
// the account API's, as one person signs in.
const (
	consoleSignInBurst = 5
	consoleSignInEvery = 12 * time.Second
)

// newConsole builds the web console, or returns nil when -console=false.
// Its audit log is a table in Warden's database; it tails ring. It logs
// where the console is and where its password is, never the password.
//
// # Errors
//
// An error when the audit table cannot be created.
func newConsole(ctx context.Context, cfg *config, w wiring, db console.AuditDB, ring *console.LogRing, log zerolog.Logger) (*console.Console, error) {
	if !cfg.Console {
		return nil, nil
	}
	audit, err := console.NewSQLAudit(ctx, db)
	if err != nil {
		return nil, err
	}
	c, err := console.New(console.Config{
		User: cfg.ConsoleUser, Password: w.keys.ConsolePassword,
		Node: cfg.Node, Version: version,
		HTTPKey: w.keys.HTTPKey, EncryptionKey: []byte(w.keys.EncryptionKey), MaxUploadBytes: cfg.MaxPluginBytes,
		Accounts: w.accounts, Audit: audit, Logs: ring, Done: ctx.Done(),
		Limiter: accounts.NewLimiter(accounts.LimiterConfig{Burst: consoleSignInBurst, Every: consoleSignInEvery}),
		Logger:  log,
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	where := "the -console-password you set"
	if cfg.ConsolePassword == "" {
		where = "console_password in " + filepath.Join(cfg.DataDir, keysFile)
	}
	log.Info().Str("path", console.Path).Str("user", cfg.ConsoleUser).Str("password", where).Msg("web console enabled")
	return c, nil
}

// consoleHandler returns the console as a handler, or nil when it is off
// (never a nil *console.Console in a non-nil interface).
func (w wiring) consoleHandler() http.Handler {
	if w.console == nil {
		return nil
	}
	return w.console
}
