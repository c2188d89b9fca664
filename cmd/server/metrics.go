package main

import (
	"context"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/host"
	"github.com/warden-rpc/warden/httpapi"
	"github.com/warden-rpc/warden/metrics"
	"github.com/warden-rpc/warden/outbound"
	"github.com/warden-rpc/warden/storage"
)

// serverMetrics wires package metrics into the server when -metrics-addr
// is set; a nil *serverMetrics is metrics off, and gives nil observers,
// which cost nothing.
type serverMetrics struct {
	addr string
	m    *metrics.Metrics
}

// newMetrics returns the server's metrics, or nil when they are off.
func newMetrics(cfg *config) *serverMetrics {
	if cfg.MetricsAddr == "" {
		return nil
	}
	return &serverMetrics{addr: cfg.MetricsAddr, m: metrics.New()}
}

// hostObserver returns the host's observer: nil (an untyped nil
// interface) when metrics are off.
func (sm *serverMetrics) hostObserver() host.Observer {
	if sm == nil {
		return nil
	}
	return sm.m
}

// outboundObserver returns the outbound HTTP clients' observer, nil when
// metrics are off.
func (sm *serverMetrics) outboundObserver() outbound.Observer {
	if sm == nil {
		return nil
	}
	return sm.m
}

// storageObserver returns the databases' observer, nil when metrics are
// off.
func (sm *serverMetrics) storageObserver() storage.CommitObserver {
	if sm == nil {
		return nil
	}
	return sm.m
}

// httpObserver returns the HTTP API's observer, nil when metrics are off.
func (sm *serverMetrics) httpObserver() httpapi.Observer {
	if sm == nil {
		return nil
	}
	return sm.m
}

// start adds the plugins of h to the metrics and serves them on their own
// listener until ctx is done.
//
// # Errors
//
// The listener's.
func (sm *serverMetrics) start(ctx context.Context, h *host.Host, log zerolog.Logger) error {
	if sm == nil {
		return nil
	}
	sm.m.WatchPlugins(h)
	srv, err := sm.m.Listen(sm.addr)
	if err != nil {
		return err
	}
	go func() {
		if err := srv.Serve(ctx); err != nil {
			log.Error().Err(err).Msg("metrics listener")
		}
	}()
	log.Info().Str("url", srv.URL()).Msg("metrics listening")
	return nil
}

// The metrics implement the observers the host and the HTTP API declare.
var (
	_ host.Observer          = (*metrics.Metrics)(nil)
	_ httpapi.Observer       = (*metrics.Metrics)(nil)
	_ storage.CommitObserver = (*metrics.Metrics)(nil)
)
