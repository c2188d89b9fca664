// Command floor is the least a server can do to answer an HTTP request
// through WebAssembly: the prototype issue 12 describes, kept as a
// benchmark reference. POST /echo?http_key=KEY checks the key, writes the
// body into a pooled wazero instance of echo.wasm (a dozen bytes of guest
// code), calls it and answers the bytes it copied back, as
// application/json, the bytes of the bare server's POST /echo (tests/bare).
//
//	go run ./tests/floor -addr 127.0.0.1:7397 -key KEY
//
// It has no ABI, no plugin manifest, no logger, no per-call limits, no
// reload and no error codes: nothing Warden's users rely on. With no
// -deadline a guest call has no time limit; -deadline D gives each call a
// context deadline, the way wazero documents it (WithCloseOnContextDone).
// scripts/bench-http runs it beside the bare server and Warden and reports
// its throughput as a ratio to the bare server's: on the same machine, that
// ratio bounds what any server that calls wazero per request can reach.
package main

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/julienschmidt/httprouter"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

//go:embed echo.wasm
var echoWasm []byte

// The guest's memory layout (echo.wat): input at inOff, output at outOff.
const (
	inOff   = 0
	outOff  = 32768
	maxBody = outOff - inOff
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7397", "listen address")
	key := flag.String("key", "", "the http_key every request must carry (required)")
	deadline := flag.Duration("deadline", 0, "each guest call's time limit (0: none)")
	flag.Parse()
	if err := serve(*addr, *key, *deadline); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// serve answers on addr until the listener fails.
func serve(addr, key string, deadline time.Duration) error {
	if key == "" {
		return errors.New("-key is required")
	}
	ctx := context.Background()
	e, err := newEcho(ctx, deadline)
	if err != nil {
		return err
	}
	defer e.close(ctx)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return (&http.Server{Handler: newRouter(e, key)}).Serve(ln)
}

// echo is the compiled guest and a pool of its instances.
type echo struct {
	rt       wazero.Runtime
	mod      wazero.CompiledModule
	deadline time.Duration
	pool     sync.Pool // *instance
}

// instance is one instantiated guest with its export and a call stack.
type instance struct {
	mod   api.Module
	fn    api.Function
	mem   api.Memory
	stack [1]uint64
}

// newEcho compiles echo.wasm.
func newEcho(ctx context.Context, deadline time.Duration) (*echo, error) {
	cfg := wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(deadline > 0)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	mod, err := rt.CompileModule(ctx, echoWasm)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("compile echo.wasm: %w", err)
	}
	return &echo{rt: rt, mod: mod, deadline: deadline}, nil
}

func (e *echo) close(ctx context.Context) { _ = e.rt.Close(ctx) }

// get returns a pooled instance or a new one.
func (e *echo) get(ctx context.Context) (*instance, error) {
	if in, ok := e.pool.Get().(*instance); ok {
		return in, nil
	}
	m, err := e.rt.InstantiateModule(ctx, e.mod, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		return nil, fmt.Errorf("instantiate echo.wasm: %w", err)
	}
	return &instance{mod: m, fn: m.ExportedFunction("echo"), mem: m.Memory()}, nil
}

// serveEcho writes body into an instance, calls echo and answers what it
// copied back.
func (e *echo) serveEcho(w http.ResponseWriter, body []byte) {
	ctx := context.Background()
	in, err := e.get(ctx)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if !in.mem.Write(inOff, body) {
		e.pool.Put(in)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if e.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.deadline)
		defer cancel()
	}
	in.stack[0] = uint64(len(body))
	if err := in.fn.CallWithStack(ctx, in.stack[:]); err != nil {
		_ = in.mod.Close(context.Background()) // a failed call leaves the instance unusable
		http.Error(w, "guest call: "+err.Error(), http.StatusInternalServerError)
		return
	}
	out, ok := in.mem.Read(outOff, uint32(in.stack[0]))
	if !ok {
		_ = in.mod.Close(context.Background())
		http.Error(w, "guest answered outside its memory", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out) // out is a view of the guest's memory: written before the instance goes back
	e.pool.Put(in)
}

// newRouter returns POST /echo behind the http_key check.
func newRouter(e *echo, key string) http.Handler {
	want := []byte(key)
	r := httprouter.New()
	r.POST("/echo", func(w http.ResponseWriter, req *http.Request, _ httprouter.Params) {
		if subtle.ConstantTimeCompare([]byte(req.URL.Query().Get("http_key")), want) != 1 {
			http.Error(w, "bad http_key", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if len(body) > maxBody {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		e.serveEcho(w, body)
	})
	return r
}
