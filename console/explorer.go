package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/warden-rpc/warden/session"
)

// Explorer limits.
const (
	// maxCallBytes bounds an explorer request (payload and vars).
	maxCallBytes = 1 << 20
	// maxAnswerBytes bounds the answer body the explorer shows.
	maxAnswerBytes = 1 << 20
	// explorerTokenTTL is the lifetime of the session token the explorer
	// signs to call as a user; it never leaves the server.
	explorerTokenTTL = time.Minute
)

// callRequest is what the explorer sends: the RPC, the payload, and who
// calls.
type callRequest struct {
	RPC     string            `json:"rpc"`
	Payload string            `json:"payload"`
	Unwrap  bool              `json:"unwrap"`
	UserID  string            `json:"user_id"` // empty: as the server
	Vars    map[string]string `json:"vars"`
}

// callAnswer is what the API answered.
type callAnswer struct {
	Status      int     `json:"status"`
	Body        string  `json:"body"`
	ContentType string  `json:"content_type"`
	Plugin      string  `json:"plugin"`
	DurationMS  float64 `json:"duration_ms"`
	Truncated   bool    `json:"truncated"`
	Request     string  `json:"request"`
}

// call runs one RPC through the HTTP API's own handler (authentication,
// body decoding, the server-only guard, the host call, the answer's
// encoding and the access log), as the server with the HTTP key or as a
// user with a session token signed for the call, and answers the status,
// body, duration and the plugin version that served it. The audit row
// names the caller and the payload's size and SHA-256 (its first 12 hex
// digits, as a plugin's version): enough to tell which payload was sent,
// without keeping what it held.
func (c *Console) call(w http.ResponseWriter, r *http.Request, s *login) error {
	var in callRequest
	if err := readJSON(w, r, maxCallBytes, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.RPC) == "" {
		return apiErr(http.StatusBadRequest, "pick an RPC", nil)
	}
	auth, who, err := c.callerAuth(r.Context(), in)
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("%s; payload %d bytes, sha256 %s", who, len(in.Payload), pluginHash([]byte(in.Payload)))
	if in.Unwrap {
		detail += ", unwrapped"
	}
	return c.audited(r, s, "rpc.call", in.RPC, detail, func() (string, error) {
		target, body, err := rpcRequest(in)
		if err != nil {
			return "", err
		}
		start := time.Now()
		rec, err := c.internal(r, http.MethodPost, target, bytes.NewReader(body), auth)
		if err != nil {
			return "", err
		}
		ans := callAnswer{
			Status: rec.status, Body: rec.body.String(), ContentType: rec.header.Get("Content-Type"),
			Plugin: rec.header.Get("Warden-Plugin"), DurationMS: float64(time.Since(start).Microseconds()) / 1000,
			Truncated: rec.truncated, Request: http.MethodPost + " " + target,
		}
		return fmt.Sprintf("HTTP %d", ans.Status), writeJSON(w, http.StatusOK, ans)
	})
}

// callerAuth returns the Authorization header for in's caller and a
// description of it for the audit log.
func (c *Console) callerAuth(ctx context.Context, in callRequest) (string, string, error) {
	if in.UserID == "" {
		return c.serverAuth(), "as the server (HTTP key)", nil
	}
	uid := strings.ToLower(strings.TrimSpace(in.UserID))
	if !session.IsUUID(uid) {
		return "", "", apiErr(http.StatusBadRequest, "user ID must be a UUID", nil)
	}
	username := ""
	if c.cfg.Accounts != nil {
		if a, err := c.cfg.Accounts.FindAccount(ctx, uid); err == nil && a != nil {
			username = a.Username
		}
	}
	now := time.Now()
	tok, err := session.Sign(c.cfg.EncryptionKey, session.Claims{
		TokenID: session.NewTokenID(), UserID: uid, Username: username, Vars: in.Vars,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(explorerTokenTTL).Unix(),
	})
	if err != nil {
		return "", "", apiErr(http.StatusBadRequest, "cannot sign a session for this user", err)
	}
	varsJSON, _ := json.Marshal(in.Vars)
	return "Bearer " + tok, fmt.Sprintf("as user %s, vars %s", uid, varsJSON), nil
}

// rpcRequest returns the target and body of the HTTP API request of a
// call: the payload as is with unwrap, else as a JSON string.
func rpcRequest(in callRequest) (string, []byte, error) {
	target := "/v2/rpc/" + url.PathEscape(in.RPC)
	if in.Unwrap {
		return target + "?unwrap", []byte(in.Payload), nil
	}
	b, err := json.Marshal(in.Payload)
	return target, b, err
}

// internal runs a request through the HTTP API's complete handler, as a
// client's would go (authentication, limits, error bodies, access log),
// with auth as its Authorization and the console user's address and host,
// and returns the answer.
func (c *Console) internal(r *http.Request, method, target string, body io.Reader, auth string) (*recorder, error) {
	api := c.api.Load()
	if api == nil {
		return nil, apiErr(http.StatusServiceUnavailable, "the HTTP API is not wired to the console", nil)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, target, body)
	if err != nil {
		return nil, apiErr(http.StatusBadRequest, "bad request target "+target, err)
	}
	req.RemoteAddr = r.RemoteAddr
	req.Host = r.Host
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	req.Header.Set("User-Agent", "warden-console")
	rec := &recorder{header: http.Header{}}
	(*api).ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec, nil
}

// recorder is the http.ResponseWriter of an explorer call: it keeps the
// status, headers and up to maxAnswerBytes of body.
type recorder struct {
	header    http.Header
	status    int
	body      bytes.Buffer
	truncated bool
}

func (rc *recorder) Header() http.Header { return rc.header }

func (rc *recorder) WriteHeader(status int) {
	if rc.status == 0 {
		rc.status = status
	}
}

func (rc *recorder) Write(p []byte) (int, error) {
	if rc.status == 0 {
		rc.status = http.StatusOK
	}
	room := maxAnswerBytes - rc.body.Len()
	if len(p) > room {
		rc.body.Write(p[:max(room, 0)])
		rc.truncated = true
		return len(p), nil
	}
	return rc.body.Write(p)
}
