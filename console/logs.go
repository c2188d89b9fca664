package console

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Log tail bounds.
const (
	// backlogLines is how many matching lines the tail starts with.
	backlogLines = 200
	// heartbeat keeps idle tails open through proxies.
	heartbeat = 15 * time.Second
)

// logFilter selects log lines: at least a level, of a plugin, of an RPC.
type logFilter struct {
	level  int
	plugin string
	rpc    string
}

// levels orders zerolog's level names.
var levels = map[string]int{"trace": -1, "debug": 0, "info": 1, "warn": 2, "error": 3, "fatal": 4, "panic": 5}

func newLogFilter(r *http.Request) logFilter {
	q := r.URL.Query()
	f := logFilter{level: -1, plugin: strings.TrimSpace(q.Get("plugin")), rpc: strings.ToLower(strings.TrimSpace(q.Get("rpc")))}
	if l, ok := levels[q.Get("level")]; ok {
		f.level = l
	}
	return f
}

// match reports whether line passes f. A plugin matches the host's
// "plugin" field ("echo") and the access log's ("echo@<version>"); an RPC
// matches a plugin log's rpc_id and the access log's /v2/rpc/<id> path.
func (f logFilter) match(line []byte) bool {
	var e struct {
		Level  string `json:"level"`
		Plugin string `json:"plugin"`
		RPCID  string `json:"rpc_id"`
		Path   string `json:"path"`
	}
	if json.Unmarshal(line, &e) != nil {
		return f.level < 0 && f.plugin == "" && f.rpc == ""
	}
	if l, ok := levels[e.Level]; ok && l < f.level {
		return false
	}
	if f.plugin != "" && e.Plugin != f.plugin && !strings.HasPrefix(e.Plugin, f.plugin+"@") {
		return false
	}
	if f.rpc != "" && strings.ToLower(e.RPCID) != f.rpc && strings.ToLower(e.Path) != "/v2/rpc/"+f.rpc {
		return false
	}
	return true
}

// tailLogs streams the log lines that pass the request's filter as
// server-sent events: the latest backlogLines first, then each new one,
// until the client leaves, the server stops or the session s ends (it is
// checked before each new batch and at each heartbeat). Each event's data is the
// JSON log line, and its id the line's sequence number.
func (c *Console) tailLogs(w http.ResponseWriter, r *http.Request, s *login) error {
	ring := c.cfg.Logs
	if ring == nil {
		return apiErr(http.StatusNotFound, "the log tail is off", nil)
	}
	f := newLogFilter(r)
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a tail outlives the API's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	notify, stop := ring.subscribe()
	defer stop()
	lines, next := ring.since(0)
	first := next - uint64(len(lines)) // the sequence number of lines[0]
	var backlog []int
	for i := len(lines) - 1; i >= 0 && len(backlog) < backlogLines; i-- {
		if f.match(lines[i]) {
			backlog = append(backlog, i)
		}
	}
	for j := len(backlog) - 1; j >= 0; j-- {
		writeEvent(w, first+uint64(backlog[j]), lines[backlog[j]])
	}
	_, _ = w.Write([]byte(": tail\n\n"))
	if rc.Flush() != nil {
		return nil
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-c.cfg.Done:
			return nil
		case <-tick.C:
			if !c.sessions.live(s) {
				return nil
			}
			_, _ = w.Write([]byte(": ping\n\n"))
		case <-notify:
			if !c.sessions.live(s) {
				return nil
			}
			var fresh [][]byte
			fresh, next = ring.since(next)
			first := next - uint64(len(fresh))
			for i, line := range fresh {
				if f.match(line) {
					writeEvent(w, first+uint64(i), line)
				}
			}
		}
		if rc.Flush() != nil {
			return nil
		}
	}
}

// writeEvent writes one server-sent event. A JSON log line holds no raw
// newline, so it is one data field.
func writeEvent(w http.ResponseWriter, id uint64, line []byte) {
	b := make([]byte, 0, len(line)+32)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, id, 10)
	b = append(b, "\ndata: "...)
	b = append(b, line...)
	b = append(b, "\n\n"...)
	_, _ = w.Write(b)
}
