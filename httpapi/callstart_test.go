package httpapi

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// callObserver is an Observer that keeps the RPC calls' times.
type callObserver struct {
	mu    sync.Mutex
	calls []time.Duration
}

func (*callObserver) RequestStarted()                {}
func (*callObserver) Requests(string) RequestCounter { return noRequests{} }
func (*callObserver) PluginRoute(string) CallCounter { return noCalls{} }
func (o *callObserver) RPCDone(_ string, _ abi.Code, elapsed time.Duration, _, _ int) {
	o.mu.Lock()
	o.calls = append(o.calls, elapsed)
	o.mu.Unlock()
}

// noRequests and noCalls count nothing.
type (
	noRequests struct{}
	noCalls    struct{}
)

func (noRequests) Done(int)                       {}
func (noCalls) Done(int, time.Duration, int, int) {}

// TestServer_callStart checks the clock reading a plugin call starts
// from (host.Request.Start): a request with a body passes the reading its
// slow-body check took; a GET passes the request's own start when the
// access log read it, and none when nothing did, so that the host reads
// its own clock, unless an observer times the call; a reading lies within
// the request, and the observer's time of the call runs from it.
func TestServer_callStart(t *testing.T) {
	for _, tc := range []struct {
		name, method, body     string
		observed, logged, want bool
	}{
		{"POST", "POST", `"hi"`, false, false, true},
		{"GET", "GET", "", false, false, false},
		{"GET logged", "GET", "", false, true, true},
		{"POST observed", "POST", `"hi"`, true, false, true},
		{"GET observed", "GET", "", true, false, true},
		{"GET observed logged", "GET", "", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caller := echo()
			obs := &callObserver{}
			cfg := Config{Caller: caller, AccessLog: tc.logged}
			if tc.observed {
				cfg.Observer = obs
			}
			if tc.logged {
				cfg.AccessLogOutput = io.Discard
			}
			s := startServer(t, cfg)
			before := time.Now()
			got := do(t, s, tc.method, "/v2/rpc/echo?http_key="+testHTTPKey, nil, tc.body)
			after := time.Now()
			if got.status != 200 {
				t.Fatalf("got %d %s", got.status, got.body)
			}
			start := caller.only(t).Start
			switch {
			case !tc.want && !start.IsZero():
				t.Errorf("Start = %v, want none", start)
			case tc.want && (start.Before(before) || start.After(after)):
				t.Errorf("Start = %v, want between %v and %v", start, before, after)
			}
			if tc.observed {
				obs.mu.Lock()
				defer obs.mu.Unlock()
				if len(obs.calls) != 1 || obs.calls[0] < 0 || obs.calls[0] > after.Sub(start) {
					t.Errorf("observed calls %v, want one of at most %v", obs.calls, after.Sub(start))
				}
			}
		})
	}
}

// TestServer_callStart_slowBody attacks the call's clock reading as a
// client that uploads its body slowly: the headers, a pause, then the
// body. The call's Start must come after the body's last byte was sent,
// so that a slow upload takes nothing of the plugin's time, and within
// the request.
func TestServer_callStart_slowBody(t *testing.T) {
	caller := echo()
	s := startServer(t, Config{Caller: caller})
	const body = `"slow"`
	head := "POST /v2/rpc/echo?http_key=" + testHTTPKey + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	checkSlowStart(t, s, caller, head+body[:1], body[1:])
}

// TestServer_callStart_slowHeaders attacks the reading a logged GET's
// call starts from, the request's own start (startCall), as a client that
// sends its request line and part of its headers, pauses, then sends the
// rest. The request starts when net/http has the whole header, so the
// pause must take nothing of the plugin's time either.
func TestServer_callStart_slowHeaders(t *testing.T) {
	caller := echo()
	s := startServer(t, Config{Caller: caller, AccessLog: true, AccessLogOutput: io.Discard})
	checkSlowStart(t, s, caller, "GET /v2/rpc/echo?http_key="+testHTTPKey+" HTTP/1.1\r\nHost: x\r\n", "Accept: */*\r\n\r\n")
}

// checkSlowStart sends one request to s in two parts with a pause between,
// and checks that the one call caller saw started (host.Request.Start)
// after the second part was sent and before the answer came. It asserts
// an order of events, not a duration: the server cannot read the last
// byte before the client writes it.
func checkSlowStart(t *testing.T, s *Server, caller *fakeCaller, first, rest string) {
	t.Helper()
	c := dialServer(t, s)
	if _, err := io.WriteString(c, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the server waits for the rest
	lastByte := time.Now()
	if _, err := io.WriteString(c, rest); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	answered := time.Now()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	start := caller.only(t).Start
	if start.Before(lastByte) || start.After(answered) {
		t.Errorf("Start = %v, want after the last byte (%v) and before the answer (%v)", start, lastByte, answered)
	}
}
