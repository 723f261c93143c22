package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// s3PartSize is the size of one part of a multipart upload, and so the
// memory one Put holds at a time: a 100 MiB package goes up in seven parts
// and never sits in memory whole. (The bytes' total is unknown up front —
// the body streams in — so every Put is a multipart upload; at 16 MiB and
// S3's 10,000 parts an object may reach 156 GiB.)
const s3PartSize = 16 << 20

// S3 keeps objects in a bucket of an S3-compatible object store (AWS S3,
// MinIO, Ceph, versitygw, ...), optionally under a key prefix.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or ends in "/"
}

var _ Store = (*S3)(nil)

// s3Config is OBJECT_STORE_URL taken apart.
type s3Config struct {
	endpoint  string // host[:port]
	accessKey string
	secretKey string
	bucket    string
	prefix    string
	secure    bool
	region    string
}

// parseS3URL reads
//
//	s3://ACCESS_KEY:SECRET_KEY@host[:port]/bucket[/prefix][?secure=false&region=us-east-1]
//
// Reserved characters in the keys are percent-encoded. HTTPS unless
// secure=false. Its errors never quote the URL: it holds the secret key.
func parseS3URL(rawURL string) (s3Config, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, secret included: say less.
		return s3Config{}, errors.New("not a URL")
	}
	if u.Scheme != "s3" {
		return s3Config{}, errors.New("scheme must be s3://")
	}
	if u.Host == "" || u.Opaque != "" {
		return s3Config{}, errors.New("no host: want s3://ACCESS_KEY:SECRET_KEY@host:port/bucket")
	}
	c := s3Config{endpoint: u.Host, secure: true}
	if u.User != nil {
		c.accessKey = u.User.Username()
		c.secretKey, _ = u.User.Password()
	}
	if c.accessKey == "" || c.secretKey == "" {
		return s3Config{}, errors.New("no credentials: want s3://ACCESS_KEY:SECRET_KEY@host:port/bucket")
	}
	path := strings.Trim(u.Path, "/")
	c.bucket, c.prefix, _ = strings.Cut(path, "/")
	if c.bucket == "" {
		return s3Config{}, errors.New("no bucket: want s3://ACCESS_KEY:SECRET_KEY@host:port/bucket")
	}
	if err := s3utils.CheckValidBucketNameStrict(c.bucket); err != nil {
		return s3Config{}, fmt.Errorf("bucket %q: %w", c.bucket, err)
	}
	if c.prefix = strings.Trim(c.prefix, "/"); c.prefix != "" {
		c.prefix += "/"
	}
	for name, values := range u.Query() {
		v := values[len(values)-1]
		switch name {
		case "secure":
			if c.secure, err = strconv.ParseBool(v); err != nil {
				return s3Config{}, fmt.Errorf("secure=%q: want true or false", v)
			}
		case "region":
			c.region = v
		default:
			return s3Config{}, fmt.Errorf("unknown parameter %q (known: secure, region)", name)
		}
	}
	return c, nil
}

// NewS3 connects to the object store OBJECT_STORE_URL names,
//
//	s3://ACCESS_KEY:SECRET_KEY@host[:port]/bucket[/prefix][?secure=false&region=us-east-1]
//
// (HTTPS unless secure=false; the region is asked of the store when not
// given; keys go under prefix/ when a prefix follows the bucket), and
// creates the bucket when it is missing.
func NewS3(ctx context.Context, rawURL string) (*S3, error) {
	c, err := parseS3URL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("object store url: %w", err)
	}
	client, err := minio.New(c.endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(c.accessKey, c.secretKey, ""),
		Secure: c.secure,
		Region: c.region,
	})
	if err != nil {
		return nil, fmt.Errorf("object store client: %w", err)
	}
	s := &S3{client: client, bucket: c.bucket, prefix: c.prefix}
	if err := s.ensureBucket(ctx, c.region); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *S3) ensureBucket(ctx context.Context, region string) error {
	exists, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3 bucket %s: %w", s.bucket, err)
	}
	if exists {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err != nil && minio.ToErrorResponse(err).Code != minio.BucketAlreadyOwnedByYou {
		return fmt.Errorf("s3 create bucket %s: %w", s.bucket, err)
	}
	return nil
}

func (s *S3) name(key string) string { return s.prefix + key }

// Put streams r into a multipart upload that the store completes only
// after the last part: until then nothing is visible under key, and on any
// failure (r's error, ctx canceled, the store refusing a part) minio-go
// aborts the upload (with a context of its own, so a canceled ctx still
// aborts), which discards the parts already sent. Stores keep the parts of
// an upload whose abort never arrived (the process died) out of listings
// and reads; a lifecycle rule (AbortIncompleteMultipartUpload) reclaims
// their space. One window stays: a completion the store carried out but
// whose answer was lost reports an error and leaves the object.
//
// Put refuses a key that holds an object by asking first. S3 has no
// "create only" for multipart uploads that every store honours (versitygw
// ignores If-None-Match), so two Puts of one key racing past that check
// both succeed and the later one's bytes stay: keys must be unique per
// write (the callers name objects by fresh ids), the check only catches
// mistakes.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if key == "" {
		return 0, errors.New("s3 put: empty key")
	}
	name := s.name(key)
	_, err := s.client.StatObject(ctx, s.bucket, name, minio.StatObjectOptions{})
	switch {
	case err == nil:
		return 0, fmt.Errorf("s3 put %s: %w", key, ErrExists)
	case !isNoSuchKey(err):
		return 0, fmt.Errorf("s3 put %s: %w", key, err)
	}
	info, err := s.client.PutObject(ctx, s.bucket, name, r, -1, minio.PutObjectOptions{
		PartSize:    s3PartSize,
		ContentType: "application/octet-stream",
	})
	if err != nil {
		return 0, fmt.Errorf("s3 put %s: %w", key, err)
	}
	return info.Size, nil
}

// Open asks the store for the object before returning, so a missing key
// is ErrNotFound here rather than on the first Read.
func (s *S3) Open(ctx context.Context, key string) (Reader, error) {
	if key == "" {
		return nil, fmt.Errorf("s3 open: empty key: %w", ErrNotFound)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.name(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3 open %s: %w", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		if isNoSuchKey(err) {
			return nil, fmt.Errorf("s3 open %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("s3 open %s: %w", key, err)
	}
	return &s3Reader{Object: obj, size: info.Size}, nil
}

// Delete removes the object; S3 answers a missing key with success too.
func (s *S3) Delete(ctx context.Context, key string) error {
	if key == "" {
		return errors.New("s3 delete: empty key")
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.name(key), minio.RemoveObjectOptions{})
	if err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("s3 delete %s: %w", key, err)
	}
	return nil
}

// s3Reader is minio-go's object (Read, Seek and ReadAt each issue ranged
// GETs as needed) with the size its first answer reported.
type s3Reader struct {
	*minio.Object
	size int64
}

func (r *s3Reader) Size() int64 { return r.size }

func isNoSuchKey(err error) bool {
	return minio.ToErrorResponse(err).Code == minio.NoSuchKey
}
