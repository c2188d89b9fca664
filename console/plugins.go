package console

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/storage"
)

// pluginView is one plugin on the plugins page.
type pluginView struct {
	Name      string      `json:"name"`
	Version   string      `json:"version"`
	Path      string      `json:"path"`
	LoadedAt  time.Time   `json:"loaded_at"`
	RPCs      []rpcView   `json:"rpcs"`
	Routes    []string    `json:"routes"`
	Instances int         `json:"instances"`
	LastError *loadErrorV `json:"last_error"`
}

// rpcView is one RPC of a plugin.
type rpcView struct {
	ID         string `json:"id"`
	ServerOnly bool   `json:"server_only"`
}

// loadErrorV is a plugin file that fails to load.
type loadErrorV struct {
	Plugin string    `json:"plugin"`
	Path   string    `json:"path"`
	Error  string    `json:"error"`
	RPCs   []string  `json:"rpcs"`
	At     time.Time `json:"at"`
}

func toLoadErrorV(e host.LoadError) *loadErrorV {
	return &loadErrorV{Plugin: e.Plugin, Path: e.Path, Error: e.Err.Error(), RPCs: append([]string{}, e.RPCs...), At: e.At}
}

// pluginsView is what the plugins page shows: the serving plugins and the
// files that fail to load.
type pluginsView struct {
	Plugins []pluginView  `json:"plugins"`
	Errors  []*loadErrorV `json:"errors"`
}

func (c *Console) pluginsView() pluginsView {
	loadErrs := c.cfg.Plugins.LoadErrors()
	out := pluginsView{Plugins: []pluginView{}, Errors: []*loadErrorV{}}
	for _, p := range c.cfg.Plugins.Plugins() {
		v := pluginView{Name: p.Name, Version: p.Version, Path: p.Path, LoadedAt: p.LoadedAt,
			RPCs: []rpcView{}, Routes: p.Routes(), Instances: p.Instances()}
		if v.Routes == nil {
			v.Routes = []string{}
		}
		for _, rpc := range p.RPCs() {
			v.RPCs = append(v.RPCs, rpcView{rpc.ID, rpc.ServerOnly})
		}
		for _, e := range loadErrs {
			if e.Path == p.Path {
				v.LastError = toLoadErrorV(e)
			}
		}
		out.Plugins = append(out.Plugins, v)
	}
	for _, e := range loadErrs {
		out.Errors = append(out.Errors, toLoadErrorV(e))
	}
	return out
}

// listPlugins answers the plugins page's table.
func (c *Console) listPlugins(w http.ResponseWriter, _ *http.Request, _ *login) error {
	return writeJSON(w, http.StatusOK, c.pluginsView())
}

// reloadResult is the answer to a reload, deploy or remove.
type reloadResult struct {
	Loaded  []string      `json:"loaded"`
	Removed []string      `json:"removed"`
	Failed  []*loadErrorV `json:"failed"`
}

// writeReload writes res: 200 when nothing failed, 422 otherwise. It
// returns the audit outcome.
func writeReload(w http.ResponseWriter, res *host.ReloadResult) (string, error) {
	out := reloadResult{Loaded: append([]string{}, res.Loaded...), Removed: append([]string{}, res.Removed...), Failed: []*loadErrorV{}}
	var why []string
	for _, f := range res.Failed {
		out.Failed = append(out.Failed, toLoadErrorV(f))
		why = append(why, f.Plugin+": "+f.Err.Error())
	}
	if len(why) > 0 {
		return "refused: " + strings.Join(why, "; "), writeJSON(w, http.StatusUnprocessableEntity, out)
	}
	return fmt.Sprintf("ok: loaded %v, removed %v", out.Loaded, out.Removed), writeJSON(w, http.StatusOK, out)
}

// reloadPlugins reloads the plugin folder.
func (c *Console) reloadPlugins(w http.ResponseWriter, r *http.Request, s *login) error {
	return c.audited(r, s, "plugins.reload", "", "", func() (string, error) {
		res, err := c.cfg.Plugins.Reload(r.Context())
		if err != nil {
			return "", err
		}
		return writeReload(w, res)
	})
}

// deployPlugin deploys the body as plugin {name}, through the host's
// Deploy: validated aside, written only once accepted; a refused upload
// leaves the serving version alone (422).
func (c *Console) deployPlugin(w http.ResponseWriter, r *http.Request, s *login) error {
	name := r.PathValue("name")
	limit := c.cfg.Plugins.MaxPluginBytes()
	if err := storage.CheckPluginName(name); err != nil {
		return apiErr(http.StatusBadRequest, "invalid plugin name: "+err.Error(), err)
	}
	if r.ContentLength > limit {
		return apiErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("plugin larger than the server's limit of %d bytes", limit), nil)
	}
	wasm, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return apiErr(http.StatusRequestEntityTooLarge, fmt.Sprintf("plugin larger than the server's limit of %d bytes", limit), err)
	}
	detail := fmt.Sprintf("%d bytes, sha256 %s", len(wasm), pluginHash(wasm))
	return c.audited(r, s, "plugins.deploy", name, detail, func() (string, error) {
		res, err := c.cfg.Plugins.Deploy(r.Context(), name, wasm)
		switch {
		case errors.Is(err, host.ErrDeployRefused):
			return writeReload(w, res)
		case errors.Is(err, storage.ErrBadName):
			return "", apiErr(http.StatusBadRequest, "invalid plugin name", err)
		case errors.Is(err, host.ErrPluginTooLarge):
			return "", apiErr(http.StatusRequestEntityTooLarge, "plugin too large", err)
		case err != nil:
			return "", err
		}
		return writeReload(w, res)
	})
}

// removePlugin removes plugin {name}; its database is kept.
func (c *Console) removePlugin(w http.ResponseWriter, r *http.Request, s *login) error {
	name := r.PathValue("name")
	return c.audited(r, s, "plugins.remove", name, "", func() (string, error) {
		res, err := c.cfg.Plugins.Remove(r.Context(), name)
		switch {
		case errors.Is(err, storage.ErrBadName):
			return "", apiErr(http.StatusBadRequest, "invalid plugin name", err)
		case errors.Is(err, host.ErrNoPlugin):
			return "", apiErr(http.StatusNotFound, "no plugin named "+name, err)
		case err != nil:
			return "", err
		}
		return writeReload(w, res)
	})
}

// pluginHash is the version the host will give wasm: 12 hex digits of its
// SHA-256.
func pluginHash(wasm []byte) string {
	sum := sha256.Sum256(wasm)
	return hex.EncodeToString(sum[:])[:12]
}
