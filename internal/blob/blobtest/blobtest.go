// Package blobtest is the contract every blob.Store passes: the same tests
// run against PostgreSQL and against a real S3-compatible store, so callers
// can never tell the two apart.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"configmarket/internal/blob"
)

const mib = 1 << 20

// Run runs the contract against stores newStore returns. Every subtest
// asks for its own store, which must start empty and not share keys with
// any other store newStore returned (a fresh database, a fresh key prefix).
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s blob.Store)
	}{
		{"RoundTripSmall", testRoundTripSmall},
		{"RoundTripEmpty", testRoundTripEmpty},
		{"RoundTripLarge", testRoundTripLarge},
		{"PutStreams", testPutStreams},
		{"SeekAndRanges", testSeekAndRanges},
		{"ServeContentRanges", testServeContentRanges},
		{"OpenMissing", testOpenMissing},
		{"PutExistingKeepsOldBytes", testPutExisting},
		{"FailingReaderLeavesNothing", testFailingReader},
		{"CanceledContextLeavesNothing", testCanceledContext},
		{"DeleteThenOpen", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"ConcurrentPuts", testConcurrentPuts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

// ctx bounds every call of a subtest, so a hung store fails the test
// instead of hanging the package.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// payload is n reproducible pseudo-random bytes (no run of zeros a store
// could compress away or a bug could fake), streamed without holding them.
func payload(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8(seedBytes(seed)), n)
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}

func payloadBytes(t *testing.T, seed uint64, n int64) []byte {
	t.Helper()
	b, err := io.ReadAll(payload(seed, n))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digest(t *testing.T, r io.Reader) ([32]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return [32]byte(h.Sum(nil)), n
}

func put(t *testing.T, s blob.Store, key string, r io.Reader) int64 {
	t.Helper()
	n, err := s.Put(ctx(t), key, r)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return n
}

func open(t *testing.T, s blob.Store, key string) blob.Reader {
	t.Helper()
	r, err := s.Open(ctx(t), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// checkObject reads key back whole and compares size and SHA-256.
func checkObject(t *testing.T, s blob.Store, key string, wantSum [32]byte, wantSize int64) {
	t.Helper()
	r := open(t, s, key)
	if r.Size() != wantSize {
		t.Errorf("%s: Size() = %d, want %d", key, r.Size(), wantSize)
	}
	sum, n := digest(t, r)
	if n != wantSize || sum != wantSum {
		t.Errorf("%s: read %d bytes with sha256 %x, want %d bytes with %x", key, n, sum, wantSize, wantSum)
	}
}

func checkMissing(t *testing.T, s blob.Store, key string) {
	t.Helper()
	r, err := s.Open(ctx(t), key)
	if err == nil {
		r.Close()
		t.Fatalf("Open(%q) found an object, want ErrNotFound", key)
	}
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Open(%q) = %v, want ErrNotFound", key, err)
	}
}

func testRoundTripSmall(t *testing.T, s blob.Store) {
	data := []byte(`{"configuration":"crm-sales","version":"1.0.0"}`)
	if n := put(t, s, "packages/small", bytes.NewReader(data)); n != int64(len(data)) {
		t.Errorf("Put returned size %d, want %d", n, len(data))
	}
	checkObject(t, s, "packages/small", sha256.Sum256(data), int64(len(data)))
}

func testRoundTripEmpty(t *testing.T, s blob.Store) {
	if n := put(t, s, "packages/empty", bytes.NewReader(nil)); n != 0 {
		t.Errorf("Put returned size %d, want 0", n)
	}
	checkObject(t, s, "packages/empty", sha256.Sum256(nil), 0)
}

// testRoundTripLarge streams more than one S3 part (16 MiB) and many
// PostgreSQL chunks, with an odd tail.
func testRoundTripLarge(t *testing.T, s blob.Store) {
	const size = 21*mib + 12345
	h := sha256.New()
	if n := put(t, s, "packages/large", io.TeeReader(payload(1, size), h)); n != size {
		t.Errorf("Put returned size %d, want %d", n, size)
	}
	checkObject(t, s, "packages/large", [32]byte(h.Sum(nil)), size)
}

// testPutStreams: a package at the default upload limit (100 MiB) never
// sits in memory whole. The heap is sampled while Put runs, with the
// collector kept eager so garbage does not count as held.
func testPutStreams(t *testing.T, s blob.Store) {
	const size = 100 * mib
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	base := heapBytes()
	var peak atomic.Uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if h := heapBytes(); h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	}()
	h := sha256.New()
	n, err := s.Put(ctx(t), "packages/at-the-limit", io.TeeReader(payload(8, size), h))
	close(stop)
	<-stopped
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if n != size {
		t.Errorf("Put returned size %d, want %d", n, size)
	}
	if grown := int64(peak.Load()) - int64(base); grown > 48*mib {
		t.Errorf("the heap grew by %d MiB while storing %d MiB: Put holds the body instead of streaming it", grown/mib, size/mib)
	}
	checkObject(t, s, "packages/at-the-limit", [32]byte(h.Sum(nil)), size)
}

// heapBytes is the memory heap objects occupy, live or not yet swept.
func heapBytes() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

func testSeekAndRanges(t *testing.T, s blob.Store) {
	const size = 3*mib + 777
	data := payloadBytes(t, 2, size)
	put(t, s, "packages/seek", bytes.NewReader(data))
	r := open(t, s, "packages/seek")

	seek := func(offset int64, whence int, want int64) {
		t.Helper()
		got, err := r.Seek(offset, whence)
		if err != nil || got != want {
			t.Fatalf("Seek(%d, %d) = %d, %v; want %d", offset, whence, got, err, want)
		}
	}
	read := func(n int, from int64) {
		t.Helper()
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("reading %d bytes at %d: %v", n, from, err)
		}
		if !bytes.Equal(buf, data[from:from+int64(n)]) {
			t.Fatalf("bytes %d..%d differ from what was stored", from, from+int64(n))
		}
	}

	// What http.ServeContent does to learn the size, then a range.
	seek(0, io.SeekEnd, size)
	seek(0, io.SeekStart, 0)
	read(100, 0)
	seek(size/2, io.SeekStart, size/2)
	read(64*1024, size/2)
	seek(10, io.SeekCurrent, size/2+64*1024+10)
	read(1000, size/2+64*1024+10)
	seek(-500, io.SeekEnd, size-500)
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(rest, data[size-500:]) {
		t.Fatalf("reading the last 500 bytes: %d bytes, %v", len(rest), err)
	}
	seek(0, io.SeekEnd, size)
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Fatalf("Read at the end = %d, %v; want 0, io.EOF", n, err)
	}
	// Back to the start after reaching the end.
	seek(0, io.SeekStart, 0)
	read(size, 0)
}

// testServeContentRanges hands the reader to http.ServeContent, as the
// download endpoints do, and asks for single and suffix ranges.
func testServeContentRanges(t *testing.T, s blob.Store) {
	const size = 2*mib + 3
	data := payloadBytes(t, 3, size)
	put(t, s, "packages/served", bytes.NewReader(data))

	cases := []struct {
		rangeHeader string
		status      int
		want        []byte
	}{
		{"", http.StatusOK, data},
		{"bytes=0-99", http.StatusPartialContent, data[:100]},
		{fmt.Sprintf("bytes=%d-%d", mib, mib+4095), http.StatusPartialContent, data[mib : mib+4096]},
		{"bytes=-1000", http.StatusPartialContent, data[size-1000:]},
		{fmt.Sprintf("bytes=%d-", size-1), http.StatusPartialContent, data[size-1:]},
		{fmt.Sprintf("bytes=%d-", size), http.StatusRequestedRangeNotSatisfiable, nil},
	}
	for _, tc := range cases {
		r := open(t, s, "packages/served")
		req := httptest.NewRequest(http.MethodGet, "/packages/current", nil)
		if tc.rangeHeader != "" {
			req.Header.Set("Range", tc.rangeHeader)
		}
		w := httptest.NewRecorder()
		http.ServeContent(w, req, "", time.Time{}, r)
		if w.Code != tc.status {
			t.Errorf("Range %q: status %d, want %d", tc.rangeHeader, w.Code, tc.status)
			continue
		}
		if tc.want != nil && !bytes.Equal(w.Body.Bytes(), tc.want) {
			t.Errorf("Range %q: got %d bytes that differ from the %d wanted", tc.rangeHeader, w.Body.Len(), len(tc.want))
		}
	}
}

func testOpenMissing(t *testing.T, s blob.Store) {
	checkMissing(t, s, "packages/never-written")
	put(t, s, "packages/a", bytes.NewReader([]byte("a")))
	checkMissing(t, s, "packages/a/b")
	checkMissing(t, s, "packages")
}

func testPutExisting(t *testing.T, s blob.Store) {
	old := []byte("the first package")
	put(t, s, "packages/once", bytes.NewReader(old))
	if _, err := s.Put(ctx(t), "packages/once", payload(4, 2*mib)); err == nil {
		t.Fatal("Put on an existing key succeeded")
	}
	checkObject(t, s, "packages/once", sha256.Sum256(old), int64(len(old)))
}

// failingReader yields n bytes, then err.
type failingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

// testFailingReader: a body that breaks (a client gone, a size limit hit)
// stores nothing, and Put's error is the reader's, so the caller can tell
// a 413 from a storage failure. Once early, once after more than one S3
// part went up.
func testFailingReader(t *testing.T, s blob.Store) {
	for _, after := range []int64{0, mib + 1, 17*mib + 5} {
		key := fmt.Sprintf("packages/broken-%d", after)
		errBody := &http.MaxBytesError{Limit: after}
		_, err := s.Put(ctx(t), key, &failingReader{r: payload(5, 64*mib), n: after, err: errBody})
		if err == nil {
			t.Fatalf("Put with a reader failing after %d bytes succeeded", after)
		}
		if !errors.Is(err, errBody) {
			t.Errorf("Put with a reader failing after %d bytes = %v, want the reader's error", after, err)
		}
		checkMissing(t, s, key)
		// Nothing blocks the key: a whole upload succeeds after.
		data := []byte("the retry")
		put(t, s, key, bytes.NewReader(data))
		checkObject(t, s, key, sha256.Sum256(data), int64(len(data)))
	}
}

// cancelingReader cancels its Put's context once it has yielded n bytes
// and goes on yielding, as a request body does when the client hangs up
// while the server still holds buffered bytes.
type cancelingReader struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func testCanceledContext(t *testing.T, s blob.Store) {
	for _, after := range []int64{mib, 17*mib + 5} {
		key := fmt.Sprintf("packages/canceled-%d", after)
		c, cancel := context.WithCancel(ctx(t))
		_, err := s.Put(c, key, &cancelingReader{r: payload(6, 40*mib), n: after, cancel: cancel})
		cancel()
		if err == nil {
			t.Fatalf("Put canceled after %d bytes succeeded", after)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put canceled after %d bytes = %v, want context.Canceled", after, err)
		}
		checkMissing(t, s, key)
	}

	c, cancel := context.WithCancel(ctx(t))
	cancel()
	if _, err := s.Put(c, "packages/canceled-before", bytes.NewReader([]byte("x"))); err == nil {
		t.Fatal("Put with a canceled context succeeded")
	}
	checkMissing(t, s, "packages/canceled-before")
}

func testDelete(t *testing.T, s blob.Store) {
	put(t, s, "packages/doomed", payload(7, mib))
	put(t, s, "packages/kept", bytes.NewReader([]byte("kept")))
	if err := s.Delete(ctx(t), "packages/doomed"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	checkMissing(t, s, "packages/doomed")
	checkObject(t, s, "packages/kept", sha256.Sum256([]byte("kept")), 4)
	if err := s.Delete(ctx(t), "packages/doomed"); err != nil {
		t.Fatalf("Delete of an already deleted key: %v", err)
	}
	// The key is free again.
	data := []byte("written again")
	put(t, s, "packages/doomed", bytes.NewReader(data))
	checkObject(t, s, "packages/doomed", sha256.Sum256(data), int64(len(data)))
}

func testDeleteMissing(t *testing.T, s blob.Store) {
	if err := s.Delete(ctx(t), "packages/never-written"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const n = 5
	var wg sync.WaitGroup
	sums := make([][32]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			h := sha256.New()
			size := int64(i+1)*300*1024 + int64(i)
			_, errs[i] = s.Put(ctx(t), fmt.Sprintf("packages/concurrent-%d", i), io.TeeReader(payload(100+uint64(i), size), h))
			sums[i] = [32]byte(h.Sum(nil))
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Put %d: %v", i, errs[i])
		}
		checkObject(t, s, fmt.Sprintf("packages/concurrent-%d", i), sums[i], int64(i+1)*300*1024+int64(i))
	}
}
