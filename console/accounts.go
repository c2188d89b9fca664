package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/warden-rpc/warden/accounts"
)

// AccountAdmin finds accounts and lists and revokes their sessions;
// *accounts.Service implements it.
type AccountAdmin interface {
	// FindAccount returns the account whose user ID or username is q, or
	// nil when there is none.
	FindAccount(ctx context.Context, q string) (*accounts.Account, error)
	// Sessions returns the user's unexpired sessions.
	Sessions(ctx context.Context, userID string) ([]accounts.SessionRecord, error)
	// RevokeSession revokes one session, or all when tokenID is empty.
	RevokeSession(ctx context.Context, userID, tokenID string) error
}

var _ AccountAdmin = (*accounts.Service)(nil)

// maxRevokeBytes bounds a revoke request.
const maxRevokeBytes = 1 << 10

// accountView is the accounts page's answer: the account and its sessions.
type accountView struct {
	Account  *accounts.Account        `json:"account"`
	Sessions []accounts.SessionRecord `json:"sessions"`
}

// findAccount finds an account by user ID or username (?q=).
func (c *Console) findAccount(w http.ResponseWriter, r *http.Request, _ *login) error {
	if c.cfg.Accounts == nil {
		return apiErr(http.StatusNotFound, "accounts are off on this server", nil)
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return apiErr(http.StatusBadRequest, "enter a user ID or username", nil)
	}
	a, err := c.cfg.Accounts.FindAccount(r.Context(), q)
	if err != nil {
		return err
	}
	if a == nil {
		return apiErr(http.StatusNotFound, "no account has the user ID or username "+q, nil)
	}
	ss, err := c.cfg.Accounts.Sessions(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, accountView{Account: a, Sessions: ss})
}

// revokeSessions revokes one session of user {id} ({"token_id": ...}) or,
// with an empty token ID, all of them; the client's next call is refused.
func (c *Console) revokeSessions(w http.ResponseWriter, r *http.Request, s *login) error {
	if c.cfg.Accounts == nil {
		return apiErr(http.StatusNotFound, "accounts are off on this server", nil)
	}
	var in struct {
		TokenID string `json:"token_id"`
	}
	if err := readJSON(w, r, maxRevokeBytes, &in); err != nil {
		return err
	}
	uid := r.PathValue("id")
	detail := "session " + in.TokenID
	if in.TokenID == "" {
		detail = "all sessions"
	}
	return c.audited(r, s, "sessions.revoke", uid, detail, func() (string, error) {
		if err := c.cfg.Accounts.RevokeSession(r.Context(), uid, in.TokenID); err != nil {
			return "", err
		}
		return "", writeJSON(w, http.StatusOK, struct{}{})
	})
}
