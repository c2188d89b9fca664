package session

import "testing"

func BenchmarkPutTraceID(b *testing.B) {
	var s [36]byte
	for b.Loop() {
		PutTraceID(&s)
	}
}
