package pluginstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrRetryLater, wrapped in the error of Watch's changed, asks for the
// generation to be tried again at a later notification or poll, without
// an error logged: the caller has said what failed already.
var ErrRetryLater = errors.New("plugin store: try the generation again later")

// Watch calls changed with the store's generation whenever it differs from
// since, the generation the caller last applied, until ctx is done. It
// listens on the store's channel on a connection of its own, so that a
// write reaches it at once, and also reads the generation every poll, so
// that a missed notification (the listener was reconnecting, or a
// connection pooler dropped it) costs at most poll. When changed fails,
// the generation is not counted as applied and the next notification or
// poll calls it again; an error that wraps ErrRetryLater is not logged.
func (s *Store) Watch(ctx context.Context, poll time.Duration, since int64, changed func(gen int64) error) {
	kick := make(chan struct{}, 1)
	go s.listen(ctx, poll, kick)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
		rctx, cancel := context.WithTimeout(ctx, readTimeout)
		gen, err := s.Generation(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn().Err(err).Msg("read plugin store generation")
			}
			continue
		}
		if gen == since {
			continue
		}
		if err := changed(gen); err != nil {
			if ctx.Err() == nil && !errors.Is(err, ErrRetryLater) {
				s.log.Error().Err(err).Int64("generation", gen).Msg("apply plugin store")
			}
			continue
		}
		since = gen
	}
}

// listen holds a connection that LISTENs on the store's channel and kicks
// on each notification and after each (re)connection, which may have
// missed some; it reconnects every retry until ctx is done.
func (s *Store) listen(ctx context.Context, retry time.Duration, kick chan<- struct{}) {
	signal := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, signal)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn().Err(err).Dur("retry", retry).Msg("plugin store listener lost; polling meanwhile")
		select {
		case <-ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

// listenOnce connects, LISTENs and kicks on every notification until the
// connection fails or ctx is done.
func (s *Store) listenOnce(ctx context.Context, signal func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		signal()
	}
}
