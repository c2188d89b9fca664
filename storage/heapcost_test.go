package storage

import (
	"testing"

	"modernc.org/libc"
)

// takes is the memory block p of n bytes takes: its allocator's block, up
// to the pages it spans (a block past 16 KiB is a mapping of its own, of
// which only the pages used are resident).
func takes(p uintptr, n int64) int64 {
	return min(int64(libc.UsableSize(p-heapHeaderSize)), (n+int64(heapHeaderSize)+4095)&^4095)
}

// TestHeap_chargesWhatBlocksTake: the budget is charged what SQLite asks
// for, but libc's allocator (modernc.org/memory) hands out a block of the
// next power of two up to 16 KiB, after the allocator's 16-byte header: a
// page of a page cache (4096 bytes and SQLite's 270 or so of its own) takes
// 8 KiB, a small block of 8 bytes 32. So the memory a plugin holds is about
// twice its bound: a statement whose transient tables were charged 40 MiB
// grew the process by 77 MiB, one refused at 63 MiB by 108 MiB (materialized
// CTEs of 2 MB, as TestSession_transientTablesMemory). The budget must count
// what each block takes.
func TestHeap_chargesWhatBlocksTake(t *testing.T) {
	h := newDBHeap(1 << 30)
	tls := libc.NewTLS()
	defer tls.Close()
	heapConns.Store(tls.ID, &connHeap{heap: h})
	defer heapConns.Delete(tls.ID)
	var taken int64
	var blocks []uintptr
	for _, n := range []int32{8, 56, 200, 1000, 4368, 9000} {
		for range 100 {
			p := heapMalloc(tls, heapRoundup(tls, n))
			if p == 0 {
				t.Fatalf("no block of %d bytes", n)
			}
			taken += takes(p, int64(n))
			blocks = append(blocks, p)
		}
	}
	if used := h.used.Load(); used < taken {
		t.Errorf("the blocks take %d bytes of memory, the budget counts %d", taken, used)
	}
	// Grown and shrunk, a block stays counted for what it takes.
	taken = 0
	for i, p := range blocks {
		n := heapRoundup(tls, int32(i%7)*700+8)
		blocks[i] = heapRealloc(tls, p, n)
		taken += takes(blocks[i], int64(n))
	}
	if used := h.used.Load(); used < taken {
		t.Errorf("reallocated, the blocks take %d bytes of memory, the budget counts %d", taken, used)
	}
	for _, p := range blocks {
		heapFree(tls, p)
	}
	if used := h.used.Load(); used != 0 {
		t.Fatalf("with every block freed, the budget counts %d bytes", used)
	}
}
