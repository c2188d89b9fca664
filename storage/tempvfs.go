package storage

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// tempFlags are the xOpen flags of SQLite's temporary files: the temp
// database, sort runs and transient indexes (TEMP_JOURNAL), materialized
// subqueries and DISTINCT tables (TRANSIENT_DB), and statement journals.
const tempFlags = sqlite3.SQLITE_OPEN_TEMP_DB | sqlite3.SQLITE_OPEN_TEMP_JOURNAL |
	sqlite3.SQLITE_OPEN_TRANSIENT_DB | sqlite3.SQLITE_OPEN_SUBJOURNAL

// tempVFS is a SQLite VFS that bounds the temporary files of the
// connections opened through it, together: it is the default VFS ("unix")
// with xOpen replaced. A temporary file it opens gets io methods whose
// xWrite refuses with SQLITE_FULL a write that would take the files past
// max, so the statement fails with ErrLimit; every other file (the
// database, its WAL and journal) keeps the default VFS's methods untouched.
//
// What is counted is each file's extent (the end of its furthest write,
// less what xTruncate cut), from the first write to xClose, which is
// what the file holds on disk at most.
type tempVFS struct {
	name   string
	p      uintptr // the registered sqlite3_vfs, in C memory
	handle uintptr // its pAppData, its key in tempVFSes
	max    int64
	used   atomic.Int64
}

// tempFile is what tempVFS keeps after the default VFS's own part of an
// open temporary file: the budget it charges and its extent.
type tempFile struct {
	vfs    uintptr // handle of the *tempVFS in tempVFSes
	extent int64
}

var (
	// baseVFS is the default VFS, whose methods tempVFS calls; baseSize is
	// its szOsFile rounded up to 8, where a tempFile starts.
	baseVFS  uintptr
	baseSize uintptr
	// tempMethods are the default VFS's io methods with xWrite, xTruncate
	// and xClose wrapped; baseMethods the default's own, which every
	// temporary file must have had (checked at open).
	tempMethods sqlite3.Tsqlite3_io_methods
	baseMethods uintptr

	tempMu     sync.Mutex // guards the set-up, the registry and vfsSeq
	tempSetup  bool
	vfsBaseErr error
	tempVFSes  sync.Map // handle -> *tempVFS
	vfsSeq     uintptr
)

// cptr returns C memory address p as a pointer: memory SQLite allocated,
// which Go's collector neither moves nor frees.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// fp returns the C function pointer of Go function f, as modernc.org's
// generated code stores one: the data word of the interface holding f.
func fp(f any) uintptr { return (*[2]uintptr)(unsafe.Pointer(&f))[1] }

// newTempVFS registers a VFS bounding its files' temporary files to max
// bytes together. Close unregisters it.
func newTempVFS(max int64) (*tempVFS, error) {
	tempMu.Lock()
	defer tempMu.Unlock()
	tls := libc.NewTLS()
	defer tls.Close()
	if !tempSetup {
		tempSetup = true
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
	v := &tempVFS{name: fmt.Sprintf("warden-temp-%d", vfsSeq), max: max}
	p := libc.Xcalloc(tls, 1, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})))
	if p == 0 {
		return nil, errors.New("register temporary-file VFS: out of memory")
	}
	name, err := libc.CString(v.name)
	if err != nil {
		libc.Xfree(tls, p)
		return nil, fmt.Errorf("register temporary-file VFS: %w", err)
	}
	vfs := (*sqlite3.Tsqlite3_vfs)(cptr(p))
	*vfs = *(*sqlite3.Tsqlite3_vfs)(cptr(baseVFS))
	vfs.FpNext = 0
	vfs.FzName = name
	vfs.FszOsFile = int32(baseSize + unsafe.Sizeof(tempFile{}))
	vfs.FpAppData = vfsSeq
	vfs.FxOpen = fp(tempOpen)
	if rc := sqlite3.Xsqlite3_vfs_register(tls, p, 0); rc != sqlite3.SQLITE_OK {
		libc.Xfree(tls, name)
		libc.Xfree(tls, p)
		return nil, fmt.Errorf("register temporary-file VFS: SQLite error %d", rc)
	}
	v.p, v.handle = p, vfsSeq
	tempVFSes.Store(vfsSeq, v)
	return v, nil
}

// close unregisters v, so that no connection opens through it. Its
// sqlite3_vfs is never freed, nor its budget forgotten: a connection still
// in use when its DB closed keeps using both until it is closed (a few
// hundred bytes for each database opened in the process's life).
func (v *tempVFS) close() {
	tempMu.Lock()
	defer tempMu.Unlock()
	tls := libc.NewTLS()
	defer tls.Close()
	sqlite3.Xsqlite3_vfs_unregister(tls, v.p)
}

// fileState returns the tempFile part of open file pFile.
func fileState(pFile uintptr) *tempFile {
	return (*tempFile)(cptr(pFile + baseSize))
}

// tempOpen is the xOpen of every tempVFS: the default VFS's, after which a
// temporary file gets tempMethods.
func tempOpen(tls *libc.TLS, pVfs, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	base := (*sqlite3.Tsqlite3_vfs)(cptr(baseVFS))
	*fileState(pFile) = tempFile{}
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{base.FxOpen})))(tls, baseVFS, zName, pFile, flags, pOutFlags)
	if rc != sqlite3.SQLITE_OK || flags&tempFlags == 0 {
		return rc
	}
	file := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	tempMu.Lock()
	if baseMethods == 0 {
		baseMethods = file.FpMethods
		tempMethods = *(*sqlite3.Tsqlite3_io_methods)(cptr(baseMethods))
		tempMethods.FxWrite = fp(tempWrite)
		tempMethods.FxTruncate = fp(tempTruncate)
		tempMethods.FxClose = fp(tempClose)
	}
	same := file.FpMethods == baseMethods
	tempMu.Unlock()
	if !same {
		// Not the methods wrapped: a file that cannot be counted is not
		// opened.
		closeWith(tls, file.FpMethods, pFile)
		return sqlite3.SQLITE_CANTOPEN
	}
	fileState(pFile).vfs = (*sqlite3.Tsqlite3_vfs)(cptr(pVfs)).FpAppData
	file.FpMethods = uintptr(unsafe.Pointer(&tempMethods))
	return sqlite3.SQLITE_OK
}

// budget returns the tempVFS a temporary file charges.
func budget(pFile uintptr) *tempVFS {
	v, ok := tempVFSes.Load(fileState(pFile).vfs)
	if !ok {
		return nil
	}
	return v.(*tempVFS)
}

// tempWrite is a temporary file's xWrite: SQLITE_FULL when the write would
// take its VFS's temporary files past their bound.
func tempWrite(tls *libc.TLS, pFile, buf uintptr, amt int32, off int64) int32 {
	st := fileState(pFile)
	if end := off + int64(amt); end > st.extent {
		v := budget(pFile)
		grow := end - st.extent
		if v != nil && v.used.Add(grow) > v.max {
			v.used.Add(-grow)
			return sqlite3.SQLITE_FULL
		}
		st.extent = end
	}
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(baseMethods))
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxWrite})))(tls, pFile, buf, amt, off)
}

// tempTruncate is a temporary file's xTruncate: what it cuts is given back.
func tempTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	st := fileState(pFile)
	if size < st.extent {
		if v := budget(pFile); v != nil {
			v.used.Add(size - st.extent)
		}
		st.extent = size
	}
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(baseMethods))
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxTruncate})))(tls, pFile, size)
}

// tempClose is a temporary file's xClose: the file's extent is given back.
func tempClose(tls *libc.TLS, pFile uintptr) int32 {
	st := fileState(pFile)
	if v := budget(pFile); v != nil {
		v.used.Add(-st.extent)
	}
	st.extent = 0
	return closeWith(tls, baseMethods, pFile)
}

// closeWith closes pFile with the xClose of io methods methods.
func closeWith(tls *libc.TLS, methods, pFile uintptr) int32 {
	m := (*sqlite3.Tsqlite3_io_methods)(cptr(methods))
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{m.FxClose})))(tls, pFile)
}
