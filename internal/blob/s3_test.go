package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"configmarket/internal/blob"
	"configmarket/internal/blob/blobtest"
)

// storeURL is the S3-compatible store the tests use: versitygw, which
// scripts/objectstore.sh starts (or OBJECT_STORE_URL, which it passes on).
// Under `make test` (CM_TEST_CLUSTER=1) a missing store fails the tests:
// the S3 half must never vanish silently.
func storeURL(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("CM_TEST_OBJECT_STORE_URL")
	if raw != "" {
		return raw
	}
	if os.Getenv("CM_TEST_CLUSTER") == "1" {
		t.Fatal("CM_TEST_OBJECT_STORE_URL is empty: source scripts/objectstore.sh before go test (make test does)")
	}
	t.Skip("no S3-compatible store: `source scripts/objectstore.sh` starts versitygw and sets CM_TEST_OBJECT_STORE_URL (or run make test)")
	return ""
}

func randomName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// withPath appends path segments to the URL's bucket[/prefix].
func withPath(t *testing.T, raw, path string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal("CM_TEST_OBJECT_STORE_URL is not a URL")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + path
	return u.String()
}

// withBucket replaces the URL's bucket (and prefix).
func withBucket(t *testing.T, raw, bucket string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal("CM_TEST_OBJECT_STORE_URL is not a URL")
	}
	u.Path = "/" + bucket
	return u.String()
}

// newS3 opens a store under a fresh key prefix of the test bucket; at the
// end it checks that no multipart upload was left behind (every failed Put
// must have aborted its own) and removes what the test stored.
func newS3(t *testing.T, raw string) *blob.S3 {
	t.Helper()
	s, err := blob.NewS3(t.Context(), withPath(t, raw, "test-"+randomName(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.WithoutCancel(t.Context())
		_, uploads, err := s.Leftovers(ctx)
		if err != nil {
			t.Error(err)
		}
		if len(uploads) > 0 {
			t.Errorf("multipart uploads left behind: %v", uploads)
		}
		if err := s.Clear(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestS3Conformance(t *testing.T) {
	raw := storeURL(t)
	blobtest.Run(t, func(t *testing.T) blob.Store { return newS3(t, raw) })
}

// TestS3AbortedUploadLeavesNothing looks under the prefix after Puts that
// failed before, and after, parts went up: no object, no upload.
func TestS3AbortedUploadLeavesNothing(t *testing.T) {
	s := newS3(t, storeURL(t))
	errBody := errors.New("client went away")
	for _, after := range []int64{100, 17 << 20} {
		body := io.MultiReader(io.LimitReader(rand.Reader, after), errReader{errBody})
		if _, err := s.Put(t.Context(), "packages/aborted", body); !errors.Is(err, errBody) {
			t.Fatalf("Put failing after %d bytes = %v, want the body's error", after, err)
		}
		objects, uploads, err := s.Leftovers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(objects) > 0 || len(uploads) > 0 {
			t.Fatalf("after a Put failing at %d bytes: objects %v, uploads %v", after, objects, uploads)
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestS3CreatesBucket: NewS3 makes a missing bucket, and is content when
// it exists.
func TestS3CreatesBucket(t *testing.T) {
	raw := withBucket(t, storeURL(t), "cm-test-"+randomName(t))
	s, err := blob.NewS3(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.RemoveBucket(context.WithoutCancel(t.Context())); err != nil {
			t.Error(err)
		}
	})
	if _, err := s.Put(t.Context(), "k", strings.NewReader("v")); err != nil {
		t.Fatal(err)
	}
	again, err := blob.NewS3(t.Context(), raw)
	if err != nil {
		t.Fatalf("NewS3 on an existing bucket: %v", err)
	}
	r, err := again.Open(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, _ := io.ReadAll(r); !bytes.Equal(b, []byte("v")) {
		t.Fatalf("read %q, want %q", b, "v")
	}
}

// TestS3WrongSecret: the store refuses, and the error does not carry the
// secret that was sent.
func TestS3WrongSecret(t *testing.T) {
	u, err := url.Parse(storeURL(t))
	if err != nil {
		t.Fatal("CM_TEST_OBJECT_STORE_URL is not a URL")
	}
	const secret = "wrong-secret-d6f1c0"
	u.User = url.UserPassword(u.User.Username(), secret)
	_, err = blob.NewS3(t.Context(), u.String())
	if err == nil {
		t.Fatal("NewS3 with a wrong secret succeeded")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error shows the secret: %v", err)
	}
}

// TestS3Unreachable: a store that does not answer fails NewS3, not the
// first upload, and the error does not carry the secret.
func TestS3Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err = blob.NewS3(ctx, "s3://AK:secret-e3b0c4@"+addr+"/bucket?secure=false")
	if err == nil {
		t.Fatal("NewS3 against a closed port succeeded")
	}
	if strings.Contains(err.Error(), "secret-e3b0c4") {
		t.Fatalf("error shows the secret: %v", err)
	}
}
