package console

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// adminPath is the HTTP API's plugin admin endpoint, which the plugins
// page goes through (httpapi/admin.go and httpapi/deploy.go).
const adminPath = "/_warden/plugins"

// serverAuth is the Authorization header of the server itself: Basic with
// the HTTP key.
func (c *Console) serverAuth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.cfg.HTTPKey+":"))
}

// admin sends a request to the HTTP API's plugin admin endpoint, with the
// HTTP key, through the API's own handler, from the console user's
// address, and returns the answer.
func (c *Console) admin(r *http.Request, method, name string, body io.Reader) (*recorder, error) {
	target := adminPath
	if name != "" {
		target += "/" + url.PathEscape(name)
	}
	return c.internal(r, method, target, body, c.serverAuth())
}

// pass writes an admin answer as the console's own.
func pass(w http.ResponseWriter, rec *recorder) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes()) // the client went away; nothing to do
}

// outcome describes an admin answer for the audit log: "ok: ..." with what
// loaded and was removed, or "refused: ..." with the reasons or message.
func outcome(rec *recorder) string {
	var res struct {
		Loaded  []string `json:"loaded"`
		Removed []string `json:"removed"`
		Failed  []struct {
			Plugin string `json:"plugin"`
			Error  string `json:"error"`
		} `json:"failed"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(rec.body.Bytes(), &res) // an odd body still gets its status below
	if rec.status == http.StatusOK {
		return fmt.Sprintf("ok: loaded %v, removed %v", res.Loaded, res.Removed)
	}
	var why []string
	for _, f := range res.Failed {
		why = append(why, f.Plugin+": "+f.Error)
	}
	if len(why) == 0 {
		why = append(why, res.Message)
	}
	return fmt.Sprintf("refused (HTTP %d): %s", rec.status, strings.Join(why, "; "))
}

// listPlugins answers the admin listing: each plugin's version, load
// time, RPCs with their server-only flag, routes, instances and last
// error, and the files that fail to load.
func (c *Console) listPlugins(w http.ResponseWriter, r *http.Request, _ *login) error {
	rec, err := c.admin(r, http.MethodGet, "", nil)
	if err != nil {
		return err
	}
	pass(w, rec)
	return nil
}

// reloadPlugins reloads the plugin folder: 200, or 422 naming each file
// refused while the old versions keep serving.
func (c *Console) reloadPlugins(w http.ResponseWriter, r *http.Request, s *login) error {
	return c.adminChange(w, r, s, "plugins.reload", http.MethodPost, "", "", nil)
}

// deployPlugin deploys the body as plugin {name} through the admin
// endpoint, which bounds it, validates it aside and writes it only once
// accepted; a refused upload leaves the serving version alone (422).
func (c *Console) deployPlugin(w http.ResponseWriter, r *http.Request, s *login) error {
	// Read here, bounded as the admin endpoint bounds it, to record the
	// upload's size and hash before it runs.
	limit := c.cfg.MaxUploadBytes
	wasm, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return apiErr(http.StatusBadRequest, "read the upload", err)
	}
	if int64(len(wasm)) > limit {
		return apiErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("plugin larger than the server's limit of %d bytes", limit), nil)
	}
	detail := fmt.Sprintf("%d bytes, sha256 %s", len(wasm), pluginHash(wasm))
	return c.adminChange(w, r, s, "plugins.deploy", http.MethodPut, r.PathValue("name"), detail, bytes.NewReader(wasm))
}

// removePlugin removes plugin {name} and its manifest; its database is
// kept.
func (c *Console) removePlugin(w http.ResponseWriter, r *http.Request, s *login) error {
	return c.adminChange(w, r, s, "plugins.remove", http.MethodDelete, r.PathValue("name"), "", nil)
}

// adminChange runs an audited change through the admin endpoint and
// passes its answer on.
func (c *Console) adminChange(w http.ResponseWriter, r *http.Request, s *login, action, method, name, detail string, body io.Reader) error {
	return c.audited(r, s, action, name, detail, func() (string, error) {
		rec, err := c.admin(r, method, name, body)
		if err != nil {
			return "", err
		}
		pass(w, rec)
		return outcome(rec), nil
	})
}

// pluginHash is the version the host will give wasm: 12 hex digits of its
// SHA-256. The explorer's audit rows name payloads the same way.
func pluginHash(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return hex.EncodeToString(sum[:])[:12]
}
