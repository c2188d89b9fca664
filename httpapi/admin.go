package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"time"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
)

// PluginAdmin lists and reloads plugins. *host.Host satisfies it.
type PluginAdmin interface {
	Plugins() []*host.Plugin
	Reload(ctx context.Context) (*host.ReloadResult, error)
	LoadErrors() []host.LoadError
	Deploy(ctx context.Context, name string, wasm []byte) (*host.ReloadResult, error)
	DeployUpload(ctx context.Context, name string, u host.Upload) (*host.ReloadResult, error)
	Remove(ctx context.Context, name string) (*host.ReloadResult, error)
	MaxPluginBytes() int64
}

var _ PluginAdmin = (*host.Host)(nil)

// adminPluginsPath is the admin endpoint: GET lists the plugins, POST
// reloads them; PUT and DELETE on adminPluginsPath/{name} deploy and
// remove one. All need the HTTP key.
const adminPluginsPath = "/_warden/plugins"

// consolePath is where Config.Console is served (console.Path).
const consolePath = "/_warden/console/"

// pluginJSON is one plugin in the admin listing.
type pluginJSON struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	Path      string    `json:"path"`
	LoadedAt  time.Time `json:"loaded_at"`
	RPCs      []rpcJSON `json:"rpcs"`
	Routes    []string  `json:"routes"`
	Instances int       `json:"instances"`
	// Grants are the origins its manifest lets it call (outbound HTTP).
	Grants    []string     `json:"grants"`
	LastError *loadErrJSON `json:"last_error"`
}

type rpcJSON struct {
	ID         string `json:"id"`
	ServerOnly bool   `json:"server_only"`
}

// loadErrJSON is a file that fails to load: its plugin name, path, the
// error, since when it fails so, and the RPC ids it registered when its
// init got that far (so an operator sees why those RPCs answer 404).
type loadErrJSON struct {
	Plugin  string    `json:"plugin"`
	Path    string    `json:"path"`
	Version string    `json:"version,omitempty"`
	Error   string    `json:"error"`
	RPCs    []string  `json:"rpcs"`
	At      time.Time `json:"at"`
}

func toLoadErrJSON(e host.LoadError) *loadErrJSON {
	rpcs := e.RPCs
	if rpcs == nil {
		rpcs = []string{}
	}
	return &loadErrJSON{Plugin: e.Plugin, Path: e.Path, Version: e.Version, Error: e.Err.Error(), RPCs: rpcs, At: e.At}
}

// requireHTTPKey authenticates an admin request: only the HTTP key (query
// or Basic) is accepted; a user session is refused with 403.
func (s *Server) requireHTTPKey(r *http.Request) error {
	user, err := s.authenticate(nil, r, r.URL.Query().Get(paramHTTPKey))
	if err != nil {
		return err
	}
	if user != nil {
		return newError(abi.CodePermissionDenied, "the admin API needs the HTTP key", errors.New("session on admin API"))
	}
	return nil
}

// listPlugins answers GET /_warden/plugins: every loaded plugin with its
// version, load time, RPCs, routes, live instances and, as last_error, the
// error of its file's newer version when that fails to load; every file
// that fails to load now (errors); and the server's goroutine count.
func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if err := s.requireHTTPKey(r); err != nil {
		return err
	}
	loadErrs := s.cfg.Admin.LoadErrors()
	errs := make(map[string]host.LoadError, len(loadErrs)) // by path: a file's error is its own
	for _, e := range loadErrs {
		errs[e.Path] = e
	}
	out := struct {
		Plugins []pluginJSON   `json:"plugins"`
		Errors  []*loadErrJSON `json:"errors"`
		// Goroutines is the server's goroutine count, for leak checks.
		Goroutines int `json:"goroutines"`
	}{Plugins: []pluginJSON{}, Errors: []*loadErrJSON{}, Goroutines: runtime.NumGoroutine()}
	for _, p := range s.cfg.Admin.Plugins() {
		pj := pluginJSON{Name: p.Name, Version: p.Version, Path: p.Path, LoadedAt: p.LoadedAt,
			RPCs: []rpcJSON{}, Routes: p.Routes(), Instances: p.Instances(), Grants: p.Grants()}
		for _, rpc := range p.RPCs() {
			pj.RPCs = append(pj.RPCs, rpcJSON{rpc.ID, rpc.ServerOnly})
		}
		if pj.Routes == nil {
			pj.Routes = []string{}
		}
		if e, ok := errs[p.Path]; ok {
			pj.LastError = toLoadErrJSON(e)
		}
		out.Plugins = append(out.Plugins, pj)
	}
	for _, e := range loadErrs {
		out.Errors = append(out.Errors, toLoadErrJSON(e))
	}
	return writeJSONStatus(w, http.StatusOK, out)
}

// reloadPlugins answers POST /_warden/plugins: it reloads the plugin
// directory and answers what changed, with 200 when every plugin loaded
// and 422 when one was refused (the old version keeps serving). The
// reload runs to its end even when the client hangs up: the host does not
// tie a load to the request.
func (s *Server) reloadPlugins(w http.ResponseWriter, r *http.Request, _ httprouter.Params) error {
	if err := s.requireHTTPKey(r); err != nil {
		return err
	}
	res, err := s.cfg.Admin.Reload(r.Context())
	if errors.Is(err, host.ErrStoreUnavailable) {
		return errStoreUnavailable(err)
	} else if err != nil {
		return err
	}
	return writeReloadResult(w, res)
}

// writeReloadResult writes res as {"loaded","removed","failed"}: 200 when
// nothing failed, 422 when a file was refused.
func writeReloadResult(w http.ResponseWriter, res *host.ReloadResult) error {
	out := struct {
		Loaded  []string       `json:"loaded"`
		Removed []string       `json:"removed"`
		Failed  []*loadErrJSON `json:"failed"`
	}{Loaded: append([]string{}, res.Loaded...), Removed: append([]string{}, res.Removed...), Failed: []*loadErrJSON{}}
	for _, f := range res.Failed {
		out.Failed = append(out.Failed, toLoadErrJSON(f))
	}
	status := http.StatusOK
	if len(out.Failed) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return writeJSONStatus(w, status, out)
}

// writeJSONStatus writes v as JSON with status.
func writeJSONStatus(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client went away; nothing to do
	return nil
}
