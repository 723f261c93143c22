// Package webhook verifies the payment provider's signed webhook calls.
//
// The provider sends a header
//
//	X-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256>
//
// where the MAC is HMAC-SHA256, keyed with a shared secret, over the bytes
// "<t>.<raw body>". Several v1 entries may be present while the provider
// rotates its secret; one matching entry is enough. On our side several
// secrets may be live at once as well.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HeaderName is the HTTP header carrying the signature.
const HeaderName = "X-Signature"

const (
	// maxHeaderLen bounds the signature header we are willing to parse.
	maxHeaderLen = 4 << 10
	// maxTimestamp (9999-12-31T23:59:59Z) bounds t so time arithmetic
	// cannot overflow; anything later is garbage.
	maxTimestamp = 253402300799
)

// Sentinel errors. Verify wraps exactly one of them; test with errors.Is.
var (
	// ErrMissingSignature: the header is absent or blank.
	ErrMissingSignature = errors.New("webhook: missing signature")
	// ErrMalformedSignature: the header cannot be parsed (too long, no t,
	// no v1, bad timestamp, non-hex or wrong-length v1, ...).
	ErrMalformedSignature = errors.New("webhook: malformed signature")
	// ErrTimestampOutOfRange: |now - t| exceeds the tolerance.
	ErrTimestampOutOfRange = errors.New("webhook: timestamp out of range")
	// ErrBadSignature: no v1 entry matches any configured secret.
	ErrBadSignature = errors.New("webhook: bad signature")
)

// Verifier checks signature headers. It is immutable after construction
// and safe for concurrent use.
type Verifier struct {
	secrets   [][]byte
	tolerance time.Duration
	now       func() time.Time
}

// NewVerifier returns a Verifier accepting a MAC made with any of secrets
// (several may be live during a rotation). The secrets are copied; empty
// ones are ignored, and with no usable secret every verification fails
// with ErrBadSignature. tolerance is the largest accepted distance between
// the signed timestamp and now, in either direction (negative counts as
// zero). now defaults to time.Now when nil.
func NewVerifier(secrets [][]byte, tolerance time.Duration, now func() time.Time) *Verifier {
	cp := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		cp = append(cp, append([]byte(nil), s...))
	}
	if tolerance < 0 {
		tolerance = 0
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{secrets: cp, tolerance: tolerance, now: now}
}

// Verify checks header (the value of HeaderName) against the raw request
// body. It returns nil when the timestamp is within tolerance and at least
// one v1 entry is a valid MAC of "<t>.<body>" under one of the secrets.
// Errors wrap ErrMissingSignature, ErrMalformedSignature,
// ErrTimestampOutOfRange or ErrBadSignature. Timestamps have one-second
// resolution, so now is truncated to the second before comparing.
func (v *Verifier) Verify(header string, body []byte) error {
	sig, err := parseHeader(header)
	if err != nil {
		return err
	}

	signed := time.Unix(sig.ts, 0)
	skew := v.now().Truncate(time.Second).Sub(signed)
	if skew < 0 {
		skew = -skew
	}
	if skew > v.tolerance {
		return fmt.Errorf("%w: signed at %s, tolerance %s", ErrTimestampOutOfRange, signed.UTC().Format(time.RFC3339), v.tolerance)
	}

	for _, secret := range v.secrets {
		want := computeMAC(secret, sig.rawTS, body)
		for _, got := range sig.macs {
			if hmac.Equal(want, got) {
				return nil
			}
		}
	}
	return ErrBadSignature
}

// Sign returns a header value "t=<unix seconds>,v1=<hex MAC>" for body
// signed with secret at time t, as the provider would send it.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(computeMAC(secret, ts, body))
}

func computeMAC(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

type signature struct {
	rawTS string // timestamp exactly as sent; it is what was signed
	ts    int64
	macs  [][]byte
}

// parseHeader parses "k=v,k=v,...". Unknown keys are ignored; exactly one
// t and at least one v1 are required. Any malformed part rejects the whole
// header rather than being skipped.
func parseHeader(header string) (signature, error) {
	var sig signature
	if len(header) > maxHeaderLen {
		return sig, fmt.Errorf("%w: header longer than %d bytes", ErrMalformedSignature, maxHeaderLen)
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return sig, ErrMissingSignature
	}

	haveTS := false
	for part := range strings.SplitSeq(header, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || key == "" {
			return sig, fmt.Errorf("%w: part without key=value", ErrMalformedSignature)
		}
		switch key {
		case "t":
			if haveTS {
				return sig, fmt.Errorf("%w: duplicate t", ErrMalformedSignature)
			}
			ts, err := parseTimestamp(val)
			if err != nil {
				return sig, err
			}
			sig.rawTS, sig.ts, haveTS = val, ts, true
		case "v1":
			if len(val) != 2*sha256.Size {
				return sig, fmt.Errorf("%w: v1 must be %d hex digits", ErrMalformedSignature, 2*sha256.Size)
			}
			mac, err := hex.DecodeString(val)
			if err != nil {
				return sig, fmt.Errorf("%w: v1 is not hex", ErrMalformedSignature)
			}
			sig.macs = append(sig.macs, mac)
		default:
			// Unknown scheme or key (e.g. v0): ignore.
		}
	}
	if !haveTS {
		return sig, fmt.Errorf("%w: no t", ErrMalformedSignature)
	}
	if len(sig.macs) == 0 {
		return sig, fmt.Errorf("%w: no v1", ErrMalformedSignature)
	}
	return sig, nil
}

// parseTimestamp accepts only plain decimal digits (no sign, no spaces)
// within [0, maxTimestamp].
func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > 12 {
		return 0, fmt.Errorf("%w: bad timestamp", ErrMalformedSignature)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: bad timestamp", ErrMalformedSignature)
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ts > maxTimestamp {
		return 0, fmt.Errorf("%w: bad timestamp", ErrMalformedSignature)
	}
	return ts, nil
}
