// Command floor is the least a server can do to answer an HTTP request
// through WebAssembly: the prototype issue 12 describes, kept as a
// benchmark reference. POST /echo?http_key=KEY checks the key, writes the
// body into a pooled wazero instance of echo.wasm (a dozen bytes of guest
// code), calls it and answers the bytes it copied back, as
// application/json, the bytes of the bare server's POST /echo (tests/bare).
//
//	go run ./tests/floor -addr 127.0.0.1:7395 -key KEY
//
// It has no ABI, no plugin manifest, no logger, no per-call limits, no
// reload and no error codes: nothing Warden's users rely on. With no
// -deadline a guest call has no time limit; -deadline D gives each call a
// context deadline, the way wazero documents it (WithCloseOnContextDone).
// -hostcalls runs echo_hostcalls.wasm instead, whose guest fetches the
// body and hands the answer back through two host functions, as Warden's
// echo does through input_read and output_write.
//
// scripts/bench-http runs it beside the bare server and Warden and reports
// its throughput as a ratio to the bare server's: on the same machine,
// that ratio is a reference for what a server that calls wazero per
// request reaches (a server could do a little less: this one parses the
// query and routes with httprouter). scripts/bench-floor compares its
// variants.
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

var (
	//go:embed echo.wasm
	echoWasm []byte
	//go:embed echo_hostcalls.wasm
	echoHostCallsWasm []byte
)

// The guests' memory layout (echo.wat): input at inOff, output at outOff.
// echo_hostcalls.wat answers from inOff.
const (
	inOff   = 0
	outOff  = 32768
	maxBody = outOff - inOff
	// maxIdle bounds the idle instances kept: more than a benchmark's
	// connections, so that a steady load instantiates nothing.
	maxIdle = 256
)

func main() {
	addr := flag.String("addr", "127.0.0.1:7395", "listen address")
	key := flag.String("key", "", "the http_key every request must carry (required)")
	deadline := flag.Duration("deadline", 0, "each guest call's time limit (0: none)")
	hostCalls := flag.Bool("hostcalls", false, "run the guest that makes two host calls per request")
	flag.Parse()
	if err := serve(*addr, *key, options{deadline: *deadline, hostCalls: *hostCalls}); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// options are the floor's variants.
type options struct {
	deadline  time.Duration
	hostCalls bool
}

// serve answers on addr until the listener fails.
func serve(addr, key string, o options) error {
	if key == "" {
		return errors.New("-key is required")
	}
	ctx := context.Background()
	e, err := newEcho(ctx, o)
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

// echo is the compiled guest and its idle instances.
type echo struct {
	rt       wazero.Runtime
	mod      wazero.CompiledModule
	opts     options
	mu       sync.Mutex
	idle     []*instance
	made     int // instances instantiated, for tests
	closedUp int // instances closed, for tests
}

// instance is one instantiated guest with its export, a call stack and,
// for -hostcalls, the call's body and answer, which the host functions
// reach through the context the call runs under.
type instance struct {
	mod   api.Module
	fn    api.Function
	mem   api.Memory
	stack [1]uint64
	call  callData
}

// callData is the context of an instance's calls: the body the host
// function "in" copies into the guest and the answer "out" copies from
// it. Its Context is set once, when the instance is made: with -deadline,
// wazero's goroutine may still read a call's context after the call.
type callData struct {
	context.Context
	in, out []byte
}

// callKey finds the callData under a deadline's context.
type callKey struct{}

// Value returns c for callKey.
func (c *callData) Value(k any) any {
	if k == (callKey{}) {
		return c
	}
	return c.Context.Value(k)
}

// newEcho compiles the guest o asks for.
func newEcho(ctx context.Context, o options) (*echo, error) {
	cfg := wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(o.deadline > 0)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	bin := echoWasm
	if o.hostCalls {
		bin = echoHostCallsWasm
		if err := instantiateEnv(ctx, rt); err != nil {
			_ = rt.Close(ctx)
			return nil, err
		}
	}
	mod, err := rt.CompileModule(ctx, bin)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("compile the guest: %w", err)
	}
	return &echo{rt: rt, mod: mod, opts: o}, nil
}

// instantiateEnv defines the host functions of echo_hostcalls.wasm: in
// (dst, n) copies the body into the guest's memory and returns its length;
// out(src, n) keeps n bytes of the guest's memory as the answer.
func instantiateEnv(ctx context.Context, rt wazero.Runtime) error {
	i32 := api.ValueTypeI32
	_, err := rt.NewHostModuleBuilder("env").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, st []uint64) {
		c := ctx.Value(callKey{}).(*callData)
		n := min(len(c.in), int(uint32(st[1])))
		if !m.Memory().Write(uint32(st[0]), c.in[:n]) {
			n = 0
		}
		st[0] = uint64(n)
	}), []api.ValueType{i32, i32}, []api.ValueType{i32}).Export("in").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, st []uint64) {
		c := ctx.Value(callKey{}).(*callData)
		b, ok := m.Memory().Read(uint32(st[0]), uint32(st[1]))
		if ok {
			c.out = append(c.out[:0], b...)
		}
		st[0] = 0
	}), []api.ValueType{i32, i32}, []api.ValueType{i32}).Export("out").
		Instantiate(ctx)
	if err != nil {
		return fmt.Errorf("define the host functions: %w", err)
	}
	return nil
}

func (e *echo) close(ctx context.Context) { _ = e.rt.Close(ctx) }

// get returns an idle instance or a new one.
func (e *echo) get(ctx context.Context) (*instance, error) {
	e.mu.Lock()
	if n := len(e.idle); n > 0 {
		in := e.idle[n-1]
		e.idle = e.idle[:n-1]
		e.mu.Unlock()
		return in, nil
	}
	e.made++
	e.mu.Unlock()
	m, err := e.rt.InstantiateModule(ctx, e.mod, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		return nil, fmt.Errorf("instantiate the guest: %w", err)
	}
	return &instance{mod: m, fn: m.ExportedFunction("echo"), mem: m.Memory(), call: callData{Context: context.Background()}}, nil
}

// put keeps in for the next request, or closes it: when a call failed
// (wazero may have closed it at the deadline) or when maxIdle are kept.
func (e *echo) put(in *instance, healthy bool) {
	in.call.in, in.call.out = nil, in.call.out[:0]
	healthy = healthy && !in.mod.IsClosed()
	e.mu.Lock()
	if healthy && len(e.idle) < maxIdle {
		e.idle = append(e.idle, in)
		e.mu.Unlock()
		return
	}
	e.closedUp++
	e.mu.Unlock()
	_ = in.mod.Close(context.Background())
}

// serveEcho hands body to an instance, calls echo and answers what it
// gave back.
func (e *echo) serveEcho(w http.ResponseWriter, body []byte) {
	in, err := e.get(context.Background())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var ctx context.Context = &in.call
	if e.opts.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.deadline)
		defer cancel()
	}
	in.call.in = body
	if !e.opts.hostCalls && !in.mem.Write(inOff, body) {
		e.put(in, true)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	in.stack[0] = uint64(len(body))
	if err := in.fn.CallWithStack(ctx, in.stack[:]); err != nil {
		e.put(in, false)
		http.Error(w, "guest call: "+err.Error(), http.StatusInternalServerError)
		return
	}
	out, ok := in.call.out, true
	if !e.opts.hostCalls {
		out, ok = in.mem.Read(outOff, uint32(in.stack[0]))
	}
	if !ok || len(out) != len(body) {
		e.put(in, false)
		http.Error(w, "guest answered outside its memory or not the body", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out) // out is the guest's memory or the instance's buffer: written before the instance goes back
	e.put(in, true)
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
