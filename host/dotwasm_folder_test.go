package host

import (
	"context"
	"slices"
	"testing"
)

// TestHost_dotWasmFolderIsNoPluginFile: a plugin may be called srv.wasm
// (storage.CheckPluginName allows dots), and the layout rule's place for
// it is plugins/srv.wasm/srv.wasm.wasm. Its folder, plugins/srv.wasm, is
// then no plugin file of srv's: listed as one, it was a load error of
// srv's ("is a directory"), and DELETE srv failed on it ("directory not
// empty"), srv left serving.
func TestHost_dotWasmFolderIsNoPluginFile(t *testing.T) {
	dir := placePlugins(t, map[string]string{"srv/srv.wasm": "reload/srv.wasm", "srv.wasm/srv.wasm.wasm": "reload/ver_v1.wasm"})
	h := newTestHost(t, dir, nil)
	if got := serving(h); !slices.Equal(got, []string{"srv", "srv.wasm"}) {
		t.Fatalf("serving %v, want srv and srv.wasm", got)
	}
	if errs := h.LoadErrors(); len(errs) != 0 {
		t.Errorf("load errors %v, want none: srv.wasm's folder is no plugin file", errs)
	}
	if _, err := h.Remove(context.Background(), "srv"); err != nil {
		t.Errorf("DELETE srv: %v", err)
	}
	if got := serving(h); !slices.Equal(got, []string{"srv.wasm"}) {
		t.Errorf("after DELETE srv: serving %v, want srv.wasm alone", got)
	}

}
