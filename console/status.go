package console

import (
	"net/http"
	"runtime"
	"time"
)

// statusView is the status page: this node, its plugins and its traffic.
type statusView struct {
	Node          string        `json:"node"`
	Version       string        `json:"version"`
	GoVersion     string        `json:"go_version"`
	Started       time.Time     `json:"started"`
	UptimeSeconds int64         `json:"uptime_seconds"`
	Goroutines    int           `json:"goroutines"`
	HeapBytes     uint64        `json:"heap_bytes"`
	Plugins       int           `json:"plugins"`
	RPCs          int           `json:"rpcs"`
	Failing       []*loadErrorV `json:"failing"`
	// Requests is nil when there is no log ring.
	Requests *RequestStats `json:"requests"`
}

// status answers the status page.
func (c *Console) status(w http.ResponseWriter, _ *http.Request, _ *login) error {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	v := statusView{
		Node: c.cfg.Node, Version: c.cfg.Version, GoVersion: runtime.Version(),
		Started: c.cfg.Started.UTC(), UptimeSeconds: int64(time.Since(c.cfg.Started).Seconds()),
		Goroutines: runtime.NumGoroutine(), HeapBytes: ms.HeapAlloc, Failing: []*loadErrorV{},
	}
	for _, p := range c.cfg.Plugins.Plugins() {
		v.Plugins++
		v.RPCs += len(p.RPCs())
	}
	for _, e := range c.cfg.Plugins.LoadErrors() {
		v.Failing = append(v.Failing, toLoadErrorV(e))
	}
	if c.cfg.Logs != nil {
		st := c.cfg.Logs.Stats()
		v.Requests = &st
	}
	return writeJSON(w, http.StatusOK, v)
}
