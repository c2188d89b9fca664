package console

import (
	"encoding/json"
	"net/http"
	"runtime"
	"time"
)

// statusView is the status page: this node, its plugins and its traffic.
type statusView struct {
	Node          string            `json:"node"`
	Version       string            `json:"version"`
	GoVersion     string            `json:"go_version"`
	Started       time.Time         `json:"started"`
	UptimeSeconds int64             `json:"uptime_seconds"`
	Goroutines    int               `json:"goroutines"`
	HeapBytes     uint64            `json:"heap_bytes"`
	Plugins       int               `json:"plugins"`
	RPCs          int               `json:"rpcs"`
	Failing       []json.RawMessage `json:"failing"`
	// Requests is nil when there is no log ring.
	Requests *RequestStats `json:"requests"`
}

// status answers the status page; the plugins come from the admin
// listing.
func (c *Console) status(w http.ResponseWriter, r *http.Request, _ *login) error {
	rec, err := c.admin(r, http.MethodGet, "", nil)
	if err != nil {
		return err
	}
	var list struct {
		Plugins []struct {
			RPCs []json.RawMessage `json:"rpcs"`
		} `json:"plugins"`
		Errors []json.RawMessage `json:"errors"`
	}
	if rec.status != http.StatusOK || json.Unmarshal(rec.body.Bytes(), &list) != nil {
		return apiErr(http.StatusBadGateway, "the plugin listing failed: "+rec.body.String(), nil)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	v := statusView{
		Node: c.cfg.Node, Version: c.cfg.Version, GoVersion: runtime.Version(),
		Started: c.cfg.Started.UTC(), UptimeSeconds: int64(time.Since(c.cfg.Started).Seconds()),
		Goroutines: runtime.NumGoroutine(), HeapBytes: ms.HeapAlloc,
		Plugins: len(list.Plugins), Failing: list.Errors,
	}
	for _, p := range list.Plugins {
		v.RPCs += len(p.RPCs)
	}
	if v.Failing == nil {
		v.Failing = []json.RawMessage{}
	}
	if c.cfg.Logs != nil {
		st := c.cfg.Logs.Stats()
		v.Requests = &st
	}
	return writeJSON(w, http.StatusOK, v)
}
