package storage

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// tempFlags are the xOpen flags of SQLite's temporary files: the temp
// database, sort runs and transient indexes (TEMP_JOURNAL), materialized
// subqueries and DISTINCT tables (TRANSIENT_DB), and statement journals.
const tempFlags = sqlite3.SQLITE_OPEN_TEMP_DB | sqlite3.SQLITE_OPEN_TEMP_JOURNAL |
	sqlite3.SQLITE_OPEN_TRANSIENT_DB | sqlite3.SQLITE_OPEN_SUBJOURNAL

// boundVFS is the SQLite VFS a bounded database's connections open
// through: the default VFS ("unix") with xOpen replaced, so that it can
// bound what SQLite does not.
//
//   - Temporary files (maxTemp): a temporary file it opens gets io methods
//     whose xWrite refuses with SQLITE_FULL a write that would take the
//     database's temporary files together past maxTemp, so the statement
//     fails with ErrLimit. What is counted is each file's extent (the end
//     of its furthest write, less what xTruncate cut), from the first
//     write to xClose, which is what the file holds on disk at most.
//   - Memory (heap): opening the main database file binds the opening
//     connection's libc TLS to the database's heap budget in heapConns,
//     until the file closes, so that the allocator (heap.go) charges the
//     connection's allocations to it.
//
// Every other file (the WAL, the journal) keeps the default VFS's methods,
// and the database file's writes do too: only its xClose is wrapped.
type boundVFS struct {
	name     string
	p        uintptr // the registered sqlite3_vfs, in C memory
	handle   uintptr // its pAppData, its key in boundVFSes
	maxTemp  int64   // 0: no bound
	tempUsed atomic.Int64
	heap     *dbHeap // nil: no bound
}

// vfsFile is what boundVFS keeps after the default VFS's own part of an
// open file.
type vfsFile struct {
	vfs    uintptr // a temporary file's *boundVFS's handle in boundVFSes
	extent int64   // a temporary file's extent
	conn   int32   // a database file's connection's TLS ID in heapConns
}

var (
	// baseVFS is the default VFS, whose methods boundVFS calls; baseSize
	// is its szOsFile rounded up to 8, where a vfsFile starts.
	baseVFS  uintptr
	baseSize uintptr
	// tempBase and mainBase are the default VFS's io methods for a
	// temporary file (without locks) and a database file, which every file
	// wrapped must have had (checked at open); tempMethods are tempBase
	// with xWrite, xTruncate and xClose wrapped, mainMethods mainBase with
	// xClose.
	tempBase, mainBase       uintptr
	tempMethods, mainMethods sqlite3.Tsqlite3_io_methods

	vfsMu      sync.Mutex // guards the set-up, tempBase, mainBase and vfsSeq
	vfsSetup   bool
	vfsBaseErr error
	boundVFSes sync.Map // handle -> *boundVFS
	vfsSeq     uintptr
)

// cptr returns C memory address p as a pointer: memory SQLite allocated,
// which Go's collector neither moves nor frees.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// fp returns the C function pointer of Go function f, as modernc.org's
// generated code stores one: the data word of the interface holding f.
func fp(f any) uintptr { return (*[2]uintptr)(unsafe.Pointer(&f))[1] }

// newBoundVFS registers a VFS bounding its connections' temporary files
// to maxTemp bytes together (0: no bound) and charging their memory to
// heap (nil: none). close unregisters it.
func newBoundVFS(maxTemp int64, heap *dbHeap) (*boundVFS, error) {
	vfsMu.Lock()
	defer vfsMu.Unlock()
	tls := libc.NewTLS()
	defer tls.Close()
	if !vfsSetup {
		vfsSetup = true
		baseVFS = sqlite3.Xsqlite3_vfs_find(tls, 0)
		if baseVFS == 0 {
			vfsBaseErr = errors.New("no default SQLite VFS")
		} else {
			sz := uintptr((*sqlite3.Tsqlite3_vfs)(cptr(baseVFS)).FszOsFile)
			baseSize = (sz + 7) &^ 7
		}
	}
	if vfsBaseErr != nil {
		return nil, vfsBaseErr
	}
	vfsSeq++
	v := &boundVFS{name: fmt.Sprintf("warden-bound-%d", vfsSeq), maxTemp: maxTemp, heap: heap}
	p := libc.Xcalloc(tls, 1, types.Size_t(unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})))
	if p == 0 {
		return nil, errors.New("register VFS: out of memory")
	}
	name, err := libc.CString(v.name)
	if err != nil {
		libc.Xfree(tls, p)
		return nil, fmt.Errorf("register VFS: %w", err)
	}
	vfs := (*sqlite3.Tsqlite3_vfs)(cptr(p))
	*vfs = *(*sqlite3.Tsqlite3_vfs)(cptr(baseVFS))
	vfs.FpNext = 0
	vfs.FzName = name
	vfs.FszOsFile = int32(baseSize + unsafe.Sizeof(vfsFile{}))
	vfs.FpAppData = vfsSeq
	vfs.FxOpen = fp(vfsOpen)
	if rc := sqlite3.Xsqlite3_vfs_register(tls, p, 0); rc != sqlite3.SQLITE_OK {
		libc.Xfree(tls, name)
		libc.Xfree(tls, p)
		return nil, fmt.Errorf("register VFS: SQLite error %d", rc)
	}
	v.p, v.handle = p, vfsSeq
	boundVFSes.Store(vfsSeq, v)
	return v, nil
}

// close unregisters v, so that no connection opens through it. Its
// sqlite3_vfs is never freed, nor its budgets forgotten: a connection
// still in use when its DB closed keeps using them until it is closed (a
// few hundred bytes for each database opened in the process's life).
func (v *boundVFS) close() {
	vfsMu.Lock()
	defer vfsMu.Unlock()
	tls := libc.NewTLS()
	defer tls.Close()
	sqlite3.Xsqlite3_vfs_unregister(tls, v.p)
}

// fileState returns the vfsFile part of open file pFile.
func fileState(pFile uintptr) *vfsFile {
	return (*vfsFile)(cptr(pFile + baseSize))
}

// vfsOpen is the xOpen of every boundVFS: the default VFS's, after which a
// temporary file gets tempMethods when its VFS bounds them, and a
// database file mainMethods when its VFS bounds memory.
func vfsOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	base := (*sqlite3.Tsqlite3_vfs)(cptr(baseVFS))
	*fileState(pFile) = vfsFile{}
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{base.FxOpen})))(tls, baseVFS, zName, pFile, flags, pOutFlags)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	h := (*sqlite3.Tsqlite3_vfs)(cptr(pVfs)).FpAppData
	vv, _ := boundVFSes.Load(h)
	v := vv.(*boundVFS)
	temp := flags&tempFlags != 0 && v.maxTemp > 0
	main := flags&sqlite3.SQLITE_OPEN_MAIN_DB != 0 && v.heap != nil
	if !temp && !main {
		return rc
	}
	file := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	vfsMu.Lock()
	var same bool
	if temp {
		if tempBase == 0 {
			tempBase = file.FpMethods
			tempMethods = *(*sqlite3.Tsqlite3_io_methods)(cptr(tempBase))
			tempMethods.FxWrite = fp(tempWrite)
			tempMethods.FxTruncate = fp(tempTruncate)
			tempMethods.FxClose = fp(tempClose)
		}
		same = file.FpMethods == tempBase
	} else {
		if mainBase == 0 {
			mainBase = file.FpMethods
			mainMethods = *(*sqlite3.Tsqlite3_io_methods)(cptr(mainBase))
			mainMethods.FxClose = fp(mainClose)
		}
		same = file.FpMethods == mainBase
	}
	vfsMu.Unlock()
	if !same {
		// Not the methods wrapped: a file that cannot be bounded is not
		// opened.
		closeWith(tls, file.FpMethods, pFile)
		return sqlite3.SQLITE_CANTOPEN
	}
	if temp {
		fileState(pFile).vfs = h
		file.FpMethods = uintptr(unsafe.Pointer(&tempMethods))
		return sqlite3.SQLITE_OK
	}
	fileState(pFile).conn = tls.ID
	heapConns.Store(tls.ID, &connHeap{heap: v.heap})
	file.FpMethods = uintptr(unsafe.Pointer(&mainMethods))
	return sqlite3.SQLITE_OK
}

// tempBudget returns the boundVFS a temporary file charges.
func tempBudget(pFile uintptr) *boundVFS {
	v, ok := boundVFSes.Load(fileState(pFile).vfs)
	if !ok {
		return nil
	}
	return v.(*boundVFS)
}

// tempWrite is a temporary file's xWrite: SQLITE_FULL when the write would
// take its VFS's temporary files past their bound.
func tempWrite(tls *libc.TLS, pFile, buf uintptr, amt int32, off int64) int32 {
	st := fileState(pFile)
	if end := off + int64(amt); end > st.extent {
		v := tempBudget(pFile)
		grow := end - st.extent
		if v != nil && v.tempUsed.Add(grow) > v.maxTemp {
			v.tempUsed.Add(-grow)
			return sqlite3.SQLITE_FULL
		}
		st.extent = end
	}
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(tempBase))
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxWrite})))(tls, pFile, buf, amt, off)
}

// tempTruncate is a temporary file's xTruncate: what it cuts is given back.
func tempTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	st := fileState(pFile)
	if size < st.extent {
		if v := tempBudget(pFile); v != nil {
			v.tempUsed.Add(size - st.extent)
		}
		st.extent = size
	}
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(tempBase))
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxTruncate})))(tls, pFile, size)
}

// tempClose is a temporary file's xClose: the file's extent is given back.
func tempClose(tls *libc.TLS, pFile uintptr) int32 {
	st := fileState(pFile)
	if v := tempBudget(pFile); v != nil {
		v.tempUsed.Add(-st.extent)
	}
	st.extent = 0
	return closeWith(tls, tempBase, pFile)
}

// mainClose is a database file's xClose: its connection's allocations are
// no longer charged to the database (the blocks charged before stay
// charged until freed), and its cache of LIKE patterns gives back what it
// was charged.
func mainClose(tls *libc.TLS, pFile uintptr) int32 {
	if c, ok := heapConns.LoadAndDelete(fileState(pFile).conn); ok {
		c.(*connHeap).like.drop()
	}
	return closeWith(tls, mainBase, pFile)
}

// closeWith closes pFile with the xClose of io methods methods.
func closeWith(tls *libc.TLS, methods, pFile uintptr) int32 {
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(methods))
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxClose})))(tls, pFile)
}
