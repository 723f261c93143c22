package blob

import (
	"context"
	"strings"
	"testing"
)

func TestParseS3URL(t *testing.T) {
	good := []struct {
		raw  string
		want s3Config
	}{
		{
			"s3://AK:SK@127.0.0.1:59000/packages?secure=false&region=us-east-1",
			s3Config{endpoint: "127.0.0.1:59000", accessKey: "AK", secretKey: "SK", bucket: "packages", region: "us-east-1"},
		},
		{
			"s3://AK:SK@s3.eu-central-1.amazonaws.com/cm-packages",
			s3Config{endpoint: "s3.eu-central-1.amazonaws.com", accessKey: "AK", secretKey: "SK", bucket: "cm-packages", secure: true},
		},
		{
			// A secret with reserved characters is percent-encoded; a
			// prefix after the bucket keeps the keys apart.
			"s3://AK:a%2Fb%2Bc%40d@minio:9000/shared/configmarket/prod/?secure=true",
			s3Config{endpoint: "minio:9000", accessKey: "AK", secretKey: "a/b+c@d", bucket: "shared", prefix: "configmarket/prod/", secure: true},
		},
	}
	for _, tc := range good {
		got, err := parseS3URL(tc.raw)
		if err != nil {
			t.Errorf("%s: %v", tc.raw, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.raw, got, tc.want)
		}
	}

	const secret = "Sup3rS3cr3t"
	bad := []string{
		"https://AK:" + secret + "@host/bucket",
		"s3://AK:" + secret + "@/bucket",
		"s3://host:9000/bucket",
		"s3://AK@host:9000/bucket",
		"s3://AK:" + secret + "@host:9000",
		"s3://AK:" + secret + "@host:9000/",
		"s3://AK:" + secret + "@host:9000/Bad_Bucket",
		"s3://AK:" + secret + "@host:9000/bucket?secure=maybe",
		"s3://AK:" + secret + "@host:9000/bucket?sslmode=disable",
		"s3://AK:" + secret + "@host:9000/bucket%zz",
		"s3://AK:" + secret + "@ho st:9000/bucket",
		"s3:AK:" + secret + "@host:9000/bucket",
	}
	for _, raw := range bad {
		_, err := parseS3URL(raw)
		if err == nil {
			t.Errorf("%s: accepted", raw)
			continue
		}
		// NewS3's message, checked whole: it must not carry the secret.
		_, err = NewS3(context.Background(), raw)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: NewS3 error %q shows the secret (or is nil)", raw, err)
		}
	}
}
