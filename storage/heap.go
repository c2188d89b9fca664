package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe" // and go:linkname

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// heapHeader is what the allocator keeps before each block it hands
// SQLite: the size SQLite asked for, what the block takes of memory (its
// cost, charged), and the budget it is charged to (a *dbHeap, or 0). 16
// bytes keep the blocks as aligned as libc's malloc makes them.
type heapHeader struct {
	size  int32
	cost  uint32
	owner uintptr
}

// blockCost is the memory that libc's block p, holding n bytes of SQLite's
// after the header, takes: libc's allocator (modernc.org/memory) hands out
// the next power of two up to 16 KiB, so a page cache's page of 4368
// bytes takes 8192; a larger block is a mapping of its own, of which the
// pages it spans are resident (TestHeap_chargesWhatBlocksTake).
func blockCost(p uintptr, n int32) uint32 {
	spans := (uint64(n) + uint64(heapHeaderSize) + 4095) &^ 4095
	return uint32(min(uint64(libc.UsableSize(p)), spans))
}

const heapHeaderSize = unsafe.Sizeof(heapHeader{})

// dbHeap is the budget of the SQLite memory a database's connections
// hold together (Options.MaxMemoryBytes). It is never freed: blocks
// charged to it may outlive its DB (see boundVFS.close), and the allocator reads
// it through their headers.
type dbHeap struct {
	max  int64
	used atomic.Int64
}

// connHeap is what the allocator knows of one connection of a bounded
// database, found by the connection's libc TLS (see vfsOpen): the budget
// its allocations are charged to, and whether the plugin statement it
// runs is past its deadline.
//
// SQLite looks at its interrupt only at the jumps of a statement's
// program, so one expression of long function calls runs to its end
// whatever the deadline; but the functions allocate as they go. Once the
// statement's context is done its allocations fail, and SQLite ends the
// call with SQLITE_NOMEM. stopAt is the generation whose context ended;
// gen changes at each watch and at its end, so a late expiry never stops
// the connection's next statement.
type connHeap struct {
	heap   *dbHeap
	gen    atomic.Int64
	stopAt atomic.Int64
	// like is the connection's cache of LIKE and GLOB patterns, used
	// only by the goroutine holding the connection (see likeCall).
	like likeCache
}

// stopped reports whether the statement c runs is past its deadline.
func (c *connHeap) stopped() bool {
	s := c.stopAt.Load()
	return s != 0 && s == c.gen.Load()
}

// watch makes c's allocations fail once ctx is done, until the returned
// function is called.
func (c *connHeap) watch(ctx context.Context) (end func()) {
	g := c.gen.Add(1)
	stop := context.AfterFunc(ctx, func() { c.stopAt.Store(g) })
	return func() {
		stop()
		c.gen.Add(1)
	}
}

var (
	heapOnce sync.Once
	heapErr  error
	// heapConns maps a connection's libc TLS ID to its *connHeap.
	heapConns sync.Map
	// heaps keeps every dbHeap reachable for Go's collector: the headers
	// that point to them are C memory, which it does not scan.
	heapsMu sync.Mutex
	heaps   []*dbHeap
)

// newDBHeap returns a budget of max bytes.
func newDBHeap(max int64) *dbHeap {
	h := &dbHeap{max: max}
	heapsMu.Lock()
	heaps = append(heaps, h)
	heapsMu.Unlock()
	return h
}

// The allocator is installed when the package initializes, before any
// code of a package that imports it can open a SQLite connection (a test
// opening a file with database/sql, say); Open reports its error.
func init() { _ = installHeap() }

// installHeap makes SQLite allocate through heapMalloc and its kin
// (SQLITE_CONFIG_MALLOC), which must be done before SQLite initializes:
// the package's init calls it, and Open again for its error.
//
// # Errors
//
// When SQLite was initialized already, or refuses the configuration.
func installHeap() error {
	heapOnce.Do(func() {
		tls := libc.NewTLS()
		defer tls.Close()
		m := libc.Xcalloc(tls, 1, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_mem_methods{})))
		args := libc.Xmalloc(tls, types.Size_t(unsafe.Sizeof(uintptr(0))))
		if m == 0 || args == 0 {
			heapErr = errors.New("install SQLite's allocator: out of memory")
			return
		}
		defer libc.Xfree(tls, args)
		mm := (*sqlite3.Tsqlite3_mem_methods)(cptr(m))
		mm.FxMalloc = fp(heapMalloc)
		mm.FxFree = fp(heapFree)
		mm.FxRealloc = fp(heapRealloc)
		mm.FxSize = fp(heapSize)
		mm.FxRoundup = fp(heapRoundup)
		mm.FxInit = fp(heapInit)
		mm.FxShutdown = fp(heapShutdown)
		// SQLite copies the methods.
		rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_MALLOC, libc.VaList(args, m))
		libc.Xfree(tls, m)
		if rc != sqlite3.SQLITE_OK {
			heapErr = fmt.Errorf("install SQLite's allocator: SQLite error %d (was SQLite initialized before storage.Open?)", rc)
			return
		}
		heapErr = separatePageCaches(tls)
	})
	return heapErr
}

// pcache1 is SQLite's page cache's global state (pcache1.c's pcache1_g).
//
//go:linkname pcache1 modernc.org/sqlite/lib._pcache1_g
var pcache1 sqlite3.TPCacheGlobal

// separatePageCaches initializes SQLite and gives each page cache a group
// of its own (pcache1's mode 1, SQLite's default in a threadsafe build).
// This build has SQLITE_ENABLE_MEMORY_MANAGEMENT, which puts every cache
// of the process in one group (mode 2): a cache at its size reuses the
// least recently used page buffer of any other cache, another database's
// included, without allocating, and the buffer stays charged to the
// budget that allocated it. One plugin's scans then hold pages charged to
// another, which is refused for memory it does not hold
// (TestBoundVFS_sharedPageCache). pcache1Init sets the mode when SQLite
// initializes, and a cache takes its group when it is created, so the
// mode is set once, after sqlite3_initialize and before any connection.
func separatePageCaches(tls *libc.TLS) error {
	if rc := sqlite3.Xsqlite3_initialize(tls); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("initialize SQLite: SQLite error %d", rc)
	}
	if pcache1.FisInit == 0 {
		return errors.New("initialize SQLite: its page cache is not pcache1")
	}
	pcache1.FseparateCache = 1
	return nil
}

// header returns the header of the block SQLite knows as p.
func header(p uintptr) *heapHeader { return (*heapHeader)(cptr(p - heapHeaderSize)) }

// connOf returns the connHeap of the connection of tls, or nil when it
// has none.
func connOf(tls *libc.TLS) *connHeap {
	if v, found := heapConns.Load(tls.ID); found {
		return v.(*connHeap)
	}
	return nil
}

// charge charges n more bytes to budget owner (a *dbHeap, or 0), and
// reports whether it had room; nothing is charged when it had not.
func charge(owner uintptr, n int64) bool {
	if owner == 0 || n <= 0 {
		release(owner, -n)
		return true
	}
	h := (*dbHeap)(cptr(owner))
	if h.used.Add(n) > h.max {
		h.used.Add(-n)
		return false
	}
	return true
}

// room reports whether budget owner has room for n more bytes.
func room(owner uintptr, n int64) bool {
	if owner == 0 || n <= 0 {
		return true
	}
	h := (*dbHeap)(cptr(owner))
	return h.used.Load()+n <= h.max
}

// release gives n bytes back to budget owner (a *dbHeap or 0).
func release(owner uintptr, n int64) {
	if owner != 0 {
		(*dbHeap)(cptr(owner)).used.Add(-n)
	}
}

// heapMalloc is SQLite's xMalloc: 0 (SQLITE_NOMEM) when the block would
// take its connection's database past its bound, or the connection's
// statement is past its deadline.
func heapMalloc(tls *libc.TLS, n int32) uintptr {
	var owner uintptr
	if c := connOf(tls); c != nil {
		if c.stopped() {
			return 0
		}
		owner = uintptr(unsafe.Pointer(c.heap))
	}
	if !room(owner, int64(n)) {
		return 0
	}
	p := libc.Xmalloc(tls, types.Size_t(heapHeaderSize)+types.Size_t(n))
	if p == 0 {
		return 0
	}
	cost := blockCost(p, n)
	if !charge(owner, int64(cost)) {
		libc.Xfree(tls, p)
		return 0
	}
	*(*heapHeader)(cptr(p)) = heapHeader{size: n, cost: cost, owner: owner}
	return p + heapHeaderSize
}

// heapFree is SQLite's xFree.
func heapFree(tls *libc.TLS, p uintptr) {
	if p == 0 {
		return
	}
	h := header(p)
	release(h.owner, int64(h.cost))
	libc.Xfree(tls, p-heapHeaderSize)
}

// heapRealloc is SQLite's xRealloc: the block stays charged to its budget,
// and a growth past it fails, leaving the block as it was, as any
// reallocation does once the connection's statement is past its deadline.
// What the block takes once moved is charged whatever it is: the growth
// SQLite asked for had room, and the allocator's rounding is at most the
// block again.
func heapRealloc(tls *libc.TLS, p uintptr, n int32) uintptr {
	if c := connOf(tls); c != nil && c.stopped() {
		return 0
	}
	h := header(p)
	owner, old := h.owner, h.cost
	if !room(owner, int64(n)-int64(h.size)) {
		return 0
	}
	q := libc.Xrealloc(tls, p-heapHeaderSize, types.Size_t(heapHeaderSize)+types.Size_t(n))
	if q == 0 {
		return 0
	}
	cost := blockCost(q, n)
	release(owner, int64(old)-int64(cost))
	nh := (*heapHeader)(cptr(q))
	nh.size, nh.cost = n, cost
	return q + heapHeaderSize
}

// heapSize is SQLite's xSize.
func heapSize(tls *libc.TLS, p uintptr) int32 {
	if p == 0 {
		return 0
	}
	return int32(header(p).size)
}

// heapRoundup is SQLite's xRoundup: to a multiple of 8, as its own.
func heapRoundup(tls *libc.TLS, n int32) int32 { return (n + 7) &^ 7 }

// heapInit is SQLite's xInit.
func heapInit(tls *libc.TLS, _ uintptr) int32 { return sqlite3.SQLITE_OK }

// heapShutdown is SQLite's xShutdown.
func heapShutdown(tls *libc.TLS, _ uintptr) {}
