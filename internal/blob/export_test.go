package blob

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
)

// Leftovers lists what the store holds under its prefix: objects, and
// multipart uploads neither completed nor aborted.
func (s *S3) Leftovers(ctx context.Context) (objects, uploads []string, err error) {
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, nil, fmt.Errorf("list objects: %w", o.Err)
		}
		objects = append(objects, o.Key)
	}
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, s.prefix, true) {
		if u.Err != nil {
			return nil, nil, fmt.Errorf("list uploads: %w", u.Err)
		}
		uploads = append(uploads, u.Key)
	}
	return objects, uploads, nil
}

// Clear removes every object and incomplete upload under the prefix.
func (s *S3) Clear(ctx context.Context) error {
	objects, uploads, err := s.Leftovers(ctx)
	if err != nil {
		return err
	}
	for _, name := range uploads {
		if err := s.client.RemoveIncompleteUpload(ctx, s.bucket, name); err != nil {
			return fmt.Errorf("abort upload %s: %w", name, err)
		}
	}
	for _, name := range objects {
		if err := s.client.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}
	return nil
}

// RemoveBucket clears the prefix and removes the bucket.
func (s *S3) RemoveBucket(ctx context.Context) error {
	if err := s.Clear(ctx); err != nil {
		return err
	}
	return s.client.RemoveBucket(ctx, s.bucket)
}
