package pluginstore

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/storage/pg/pgtest"
)

// openStore opens a store on url, closed when t ends.
func openStore(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), Config{URL: url, Schema: "warden", Logger: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestStore_PutGetListDelete writes, reads and deletes plugins, and checks
// the generation each write raises.
func TestStore_PutGetListDelete(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.URL(t))
	if list, gen, err := s.List(ctx); err != nil || len(list) != 0 || gen != 0 {
		t.Fatalf("empty List = %v, %d, %v", list, gen, err)
	}
	manifest := "[plugin]\n"
	gen, err := s.Put(ctx, 0, Upload{Name: "echo", Wasm: []byte("v1")}, Upload{Name: "kv", Wasm: []byte("kv1"), Manifest: &manifest})
	if err != nil || gen != 1 {
		t.Fatalf("Put = %d, %v; want generation 1", gen, err)
	}
	if gen, err = s.Put(ctx, -1, Upload{Name: "echo", Wasm: []byte("v2")}); err != nil || gen != 2 {
		t.Fatalf("Put = %d, %v; want generation 2", gen, err)
	}
	list, gen, err := s.List(ctx)
	if err != nil || gen != 2 || len(list) != 2 {
		t.Fatalf("List = %+v, %d, %v", list, gen, err)
	}
	echo, kv := list[0], list[1]
	if echo.Name != "echo" || echo.Generation != 2 || echo.Wasm != nil || echo.Manifest != nil ||
		echo.SHA256 != "fb04dcb6970e4c3d1873de51fd5a50d7bb46b3383113602665c350ec40b5f990" {
		t.Errorf("List echo = %+v", echo)
	}
	if kv.Name != "kv" || kv.Generation != 1 || kv.Manifest == nil || *kv.Manifest != manifest || kv.UpdatedAt.IsZero() {
		t.Errorf("List kv = %+v", kv)
	}
	p, err := s.Get(ctx, "echo")
	if err != nil || !bytes.Equal(p.Wasm, []byte("v2")) || p.SHA256 != echo.SHA256 {
		t.Fatalf("Get = %+v, %v", p, err)
	}
	if gen, err = s.Delete(ctx, "echo"); err != nil || gen != 3 {
		t.Fatalf("Delete = %d, %v", gen, err)
	}
	if _, err := s.Get(ctx, "echo"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get deleted = %v, want ErrNotFound", err)
	}
	if _, err := s.Delete(ctx, "echo"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete again = %v, want ErrNotFound", err)
	}
	if g, err := s.Generation(ctx); err != nil || g != 3 {
		t.Fatalf("Generation = %d, %v; a failed Delete must not raise it", g, err)
	}
	// A plugin's manifest goes with it: the name stored again without one
	// has none.
	if _, err = s.Delete(ctx, "kv"); err != nil {
		t.Fatal(err)
	}
	if _, err = s.Put(ctx, -1, Upload{Name: "kv", Wasm: []byte("kv2")}); err != nil {
		t.Fatal(err)
	}
	if list, _, err = s.List(ctx); err != nil || len(list) != 1 || list[0].Manifest != nil {
		t.Fatalf("List after kv was deleted and stored again without a manifest = %+v, %v", list, err)
	}
}

// TestStore_Put_ErrStale: a check-and-set Put with an old generation
// stores nothing.
func TestStore_Put_ErrStale(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, pgtest.URL(t))
	if _, err := s.Put(ctx, 0, Upload{Name: "a", Wasm: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, 0, Upload{Name: "b", Wasm: []byte("b")}); !errors.Is(err, ErrStale) {
		t.Fatalf("Put at generation 0 = %v, want ErrStale", err)
	}
	if list, gen, err := s.List(ctx); err != nil || len(list) != 1 || gen != 1 {
		t.Fatalf("List = %+v, %d, %v; want a alone at generation 1", list, gen, err)
	}
}

// TestStore_Open_concurrent: nodes that start together on a fresh database
// all open the store, and share it.
func TestStore_Open_concurrent(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() {
			stores[i], errs[i] = Open(context.Background(), Config{URL: url, Schema: "warden"})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(stores[i].Close)
	}
	if _, err := stores[0].Put(context.Background(), -1, Upload{Name: "a", Wasm: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	if g, err := stores[3].Generation(context.Background()); err != nil || g != 1 {
		t.Fatalf("another store's Generation = %d, %v; want 1", g, err)
	}
}

// TestStore_Watch: a write on one store reaches another store's Watch,
// by notification: the poll interval is far longer than the deadline.
func TestStore_Watch(t *testing.T) {
	url := pgtest.URL(t)
	writer, watcher := openStore(t, url), openStore(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gens := make(chan int64, 10)
	fail := true
	go watcher.Watch(ctx, time.Hour, 0, func(gen int64) error {
		gens <- gen
		if fail { // the first call fails: the same generation comes again
			fail = false
			return errors.New("apply failed")
		}
		return nil
	})
	// Wait for the listener: its connection kicks once, at generation 0,
	// which calls nothing; keep writing until a call comes.
	deadline := time.After(30 * time.Second)
	var got []int64
	for len(got) < 1 {
		if _, err := writer.Put(ctx, -1, Upload{Name: "a", Wasm: []byte("a")}); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-gens:
			got = append(got, g)
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatal("no notification reached Watch")
		}
	}
	first := got[0]
	if _, err := writer.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	// The failed call is retried at Watch's next wake-up, until the
	// delete's later generation comes. A wake-up already on its way when
	// the first call failed (the put's own notification after the
	// listener's first kick had read generation 1 already) brings the same
	// generation again, which is the retry; an earlier one never comes.
	for {
		select {
		case g := <-gens:
			if g < first {
				t.Fatalf("Watch called with %d after %d", g, first)
			}
			if g > first {
				return
			}
		case <-deadline:
			t.Fatal("the delete's notification did not reach Watch")
		}
	}
}

// TestStore_Watch_poll: a change whose notification never comes (lost
// while the listener reconnected, or dropped by a pooler) is still seen,
// by polling. The generation is raised behind the store's back, which
// notifies nobody; the listener kicks once when it connects, so the
// second raise can only be seen by a poll.
func TestStore_Watch_poll(t *testing.T) {
	s := openStore(t, pgtest.URL(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gens := make(chan int64, 10)
	go s.Watch(ctx, 50*time.Millisecond, 0, func(gen int64) error { gens <- gen; return nil })
	for want := int64(1); want <= 2; want++ {
		if _, err := s.pool.Exec(ctx, `UPDATE `+s.gen+` SET generation = generation + 1`); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-gens:
			if g != want {
				t.Fatalf("Watch called with %d, want %d", g, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("Watch never saw generation %d", want)
		}
	}
}
