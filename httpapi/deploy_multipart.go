package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/manifest"
)

// Part names of a multipart deploy.
const (
	partWasm     = "wasm"
	partManifest = "manifest"
)

// isMultipart reports whether r's body is multipart/form-data.
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// deployMultipart answers PUT /_warden/plugins/{name} with a
// multipart/form-data body: a part "wasm" (the module, required) and a
// part "manifest" (its NAME.toml, optional), deployed together, so that
// the new version is validated, written and swapped in with its manifest
// in one step. Each part is bounded as when sent alone; another part name,
// or a part given twice, is 400: which of two the sender meant is not for
// the server to guess.
func (s *Server) deployMultipart(w http.ResponseWriter, r *http.Request, name string) error {
	limit := s.cfg.Admin.MaxPluginBytes()
	_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(w, r.Body, limit+manifest.MaxBytes+64<<10) // parts' headers and boundaries
	mr := multipart.NewReader(body, params["boundary"])
	var u host.Upload
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return newError(abi.CodeInvalidArgument, "read multipart body", err)
		}
		if seen[part.FormName()] {
			return newError(abi.CodeInvalidArgument, fmt.Sprintf("part %q is given twice", part.FormName()), nil)
		}
		seen[part.FormName()] = true
		switch part.FormName() {
		case partWasm:
			u.Wasm, err = readPart(part, limit)
		case partManifest:
			u.Manifest, err = readPart(part, manifest.MaxBytes)
		default:
			return newError(abi.CodeInvalidArgument, fmt.Sprintf("unknown part %q: want %q and %q", part.FormName(), partWasm, partManifest), nil)
		}
		mbe := (*http.MaxBytesError)(nil)
		switch {
		case errors.Is(err, errPartTooLarge) || errors.As(err, &mbe):
			return newError(abi.CodeInvalidArgument, fmt.Sprintf("part %q, or the whole body, is over its limit (-max-plugin-bytes for the module, %d bytes for the manifest)", part.FormName(), manifest.MaxBytes), err)
		case err != nil:
			return newError(abi.CodeInvalidArgument, "read multipart body", err)
		}
	}
	if u.Wasm == nil {
		return newError(abi.CodeInvalidArgument, fmt.Sprintf("no part %q", partWasm), nil)
	}
	return s.upload(w, r, name, u)
}

// errPartTooLarge is readPart's error for a part over its limit.
var errPartTooLarge = errors.New("part over its limit")

// readPart reads a part of at most limit bytes.
func readPart(p *multipart.Part, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(p, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%w: %d bytes", errPartTooLarge, limit)
	}
	return b, err
}
