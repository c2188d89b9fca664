package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/storage"
)

// pluginNameParam returns the plugin name of an adminPluginsPath/*name
// route: the catch-all without its leading slash, so that a name with a
// slash ("../x") reaches CheckPluginName and is refused with 400, not 404.
func pluginNameParam(ps httprouter.Params) string {
	return strings.TrimPrefix(ps.ByName("name"), "/")
}

// deployPlugin answers PUT /_warden/plugins/{name}: the body is the
// plugin's .wasm, at most the host's MaxPluginBytes (400 beyond, refused
// from Content-Length before any read, or as soon as the body passes it).
// The host validates the upload aside and writes it into the plugin folder
// only once accepted: 200 with the reload result; 422 with the reload
// result naming why it was refused, and nothing written; 400 for a bad
// name. In cluster mode: 503 (code 14) while the plugin store cannot be
// reached, 409 (code 10) when other nodes wrote it before every attempt.
func (s *Server) deployPlugin(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.requireHTTPKey(r); err != nil {
		return err
	}
	name := pluginNameParam(ps)
	if name, ok := strings.CutSuffix(name, manifestSuffix); ok {
		return s.deployManifest(w, r, name)
	}
	if err := storage.CheckPluginName(name); err != nil {
		return newError(abi.CodeInvalidArgument, "invalid plugin name", err)
	}
	if err := encoded(r); err != nil {
		return errBadEncoding(err)
	}
	if isMultipart(r) {
		return s.deployMultipart(w, r, name)
	}
	limit := s.cfg.Admin.MaxPluginBytes()
	if r.ContentLength > limit {
		return errPluginTooLarge(limit, fmt.Errorf("content length %d", r.ContentLength))
	}
	wasm, err := io.ReadAll(http.MaxBytesReader(connWriter(w), r.Body, limit))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return errPluginTooLarge(limit, err)
		}
		return newError(abi.CodeInvalidArgument, "read plugin body", err)
	}
	res, err := s.cfg.Admin.Deploy(r.Context(), name, wasm)
	switch {
	case errors.Is(err, host.ErrDeployRefused):
		return writeReloadResult(w, res) // 422: res.Failed says why
	case errors.Is(err, storage.ErrBadName):
		return newError(abi.CodeInvalidArgument, "invalid plugin name", err)
	case errors.Is(err, host.ErrPluginTooLarge):
		return errPluginTooLarge(limit, err)
	case errors.Is(err, host.ErrStoreUnavailable):
		return errStoreUnavailable(err)
	case errors.Is(err, host.ErrStoreChanged):
		return newError(abi.CodeAborted, "other nodes kept changing the plugin store; retry", err)
	case err != nil:
		return err
	}
	return writeReloadResult(w, res)
}

// removePlugin answers DELETE /_warden/plugins/{name}: the host removes
// the plugin's file and its manifest and reloads; 200 with the reload
// result, 404 when no plugin file nor manifest has that name. The
// plugin's database is kept.
func (s *Server) removePlugin(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
	if err := s.requireHTTPKey(r); err != nil {
		return err
	}
	name := pluginNameParam(ps)
	if name, ok := strings.CutSuffix(name, manifestSuffix); ok {
		return s.removeManifest(w, r, name)
	}
	res, err := s.cfg.Admin.Remove(r.Context(), name)
	switch {
	case errors.Is(err, storage.ErrBadName):
		return newError(abi.CodeInvalidArgument, "invalid plugin name", err)
	case errors.Is(err, host.ErrNoPlugin):
		return newError(abi.CodeNotFound, "plugin not found", err)
	case errors.Is(err, host.ErrStoreUnavailable):
		return errStoreUnavailable(err)
	case err != nil:
		return err
	}
	return writeReloadResult(w, res)
}

// errPluginTooLarge answers an upload over limit with 400, code 3, and a
// message naming the limit, in the admin endpoints' {"error","message",
// "code"} shape, whose status follows its code as everywhere else (no
// gRPC code maps to 413).
func errPluginTooLarge(limit int64, cause error) error {
	msg := fmt.Sprintf("plugin larger than the server's -max-plugin-bytes of %d bytes", limit)
	return newError(abi.CodeInvalidArgument, msg, cause)
}

// errStoreUnavailable answers a deploy, removal or reload in cluster mode
// while the plugin store's database cannot be reached: 503, code 14, worth
// retrying; nothing was changed.
func errStoreUnavailable(cause error) error {
	return newError(abi.CodeUnavailable, "plugin store unavailable, retry", cause)
}
