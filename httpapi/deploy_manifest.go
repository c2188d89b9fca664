package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/manifest"
	"github.com/warden-rpc/warden/storage"
)

// manifestSuffix ends the path of a plugin's manifest:
// PUT and DELETE /_warden/plugins/{name}/manifest. A plugin name has no
// slash, so the path cannot be a plugin's.
const manifestSuffix = "/manifest"

// deployManifest answers PUT /_warden/plugins/{name}/manifest: the body is
// the plugin's manifest (NAME.toml), at most manifest.MaxBytes. The host
// loads the plugin under it aside and writes it at the top of the plugin
// folder (plugins/NAME.toml, wherever the module is) only once accepted: 200 with the reload result; 422 with the reason, and
// nothing written; 400 for a bad name or an oversized body. For a plugin
// that has no file yet the manifest is checked and written, for its first
// deploy to load under it (200, nothing loaded).
func (s *Server) deployManifest(w http.ResponseWriter, r *http.Request, name string) error {
	if err := storage.CheckPluginName(name); err != nil {
		return newError(abi.CodeInvalidArgument, "invalid plugin name", err)
	}
	if err := encoded(r); err != nil {
		return errBadEncoding(err)
	}
	if r.ContentLength > manifest.MaxBytes {
		return errManifestTooLarge(fmt.Errorf("content length %d", r.ContentLength))
	}
	mf, err := io.ReadAll(http.MaxBytesReader(w, r.Body, manifest.MaxBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return errManifestTooLarge(err)
		}
		return newError(abi.CodeInvalidArgument, "read manifest body", err)
	}
	return s.upload(w, r, name, host.Upload{Manifest: mf})
}

// removeManifest answers DELETE /_warden/plugins/{name}/manifest: the
// plugin reloads with no grants and the server's limits; 200 with the
// reload result, 404 when no plugin file has that name.
func (s *Server) removeManifest(w http.ResponseWriter, r *http.Request, name string) error {
	return s.upload(w, r, name, host.Upload{RemoveManifest: true})
}

// upload hands u to the host and answers with the reload result.
func (s *Server) upload(w http.ResponseWriter, r *http.Request, name string, u host.Upload) error {
	res, err := s.cfg.Admin.DeployUpload(r.Context(), name, u)
	switch {
	case errors.Is(err, host.ErrDeployRefused):
		return writeReloadResult(w, res) // 422: res.Failed says why
	case errors.Is(err, storage.ErrBadName):
		return newError(abi.CodeInvalidArgument, "invalid plugin name", err)
	case errors.Is(err, host.ErrNoPlugin):
		return newError(abi.CodeNotFound, "plugin not found", err)
	case errors.Is(err, host.ErrManifestTooLarge):
		return errManifestTooLarge(err)
	case err != nil:
		return err
	}
	return writeReloadResult(w, res)
}

// errManifestTooLarge answers a manifest over manifest.MaxBytes with 400,
// code 3, naming the limit.
func errManifestTooLarge(cause error) error {
	return newError(abi.CodeInvalidArgument, fmt.Sprintf("manifest larger than %d bytes", manifest.MaxBytes), cause)
}
