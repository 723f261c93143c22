package webhook

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testNow     = time.Unix(1_700_000_000, 0)
	secretOld   = []byte("whsec_old_secret")
	secretNew   = []byte("whsec_new_secret")
	secretWrong = []byte("whsec_wrong")
	testBody    = []byte(`{"id":"evt_1","type":"payment.succeeded","amount":1000}`)
)

const tolerance = 5 * time.Minute

func fixedNow() time.Time { return testNow }

// v1 returns only the hex MAC of a Sign result.
func v1(secret []byte, t time.Time, body []byte) string {
	h := Sign(secret, t, body)
	return h[strings.Index(h, "v1=")+3:]
}

func TestVerify(t *testing.T) {
	ts := strconv.FormatInt(testNow.Unix(), 10)
	tampered := append([]byte(nil), testBody...)
	tampered[len(tampered)-2] ^= 0x01

	tests := []struct {
		name    string
		secrets [][]byte
		header  string
		body    []byte
		want    error
	}{
		{
			name:   "valid",
			header: Sign(secretOld, testNow, testBody),
		},
		{
			name:   "valid with second rotated secret",
			header: Sign(secretNew, testNow, testBody),
		},
		{
			name:   "valid empty body",
			header: Sign(secretOld, testNow, nil),
			body:   []byte{},
		},
		{
			name:   "wrong secret",
			header: Sign(secretWrong, testNow, testBody),
			want:   ErrBadSignature,
		},
		{
			name:   "body changed by one byte",
			header: Sign(secretOld, testNow, testBody),
			body:   tampered,
			want:   ErrBadSignature,
		},
		{
			name:   "timestamp tolerance+1s old",
			header: Sign(secretOld, testNow.Add(-tolerance-time.Second), testBody),
			want:   ErrTimestampOutOfRange,
		},
		{
			name:   "timestamp tolerance+1s in future",
			header: Sign(secretOld, testNow.Add(tolerance+time.Second), testBody),
			want:   ErrTimestampOutOfRange,
		},
		{
			name:   "timestamp exactly tolerance old",
			header: Sign(secretOld, testNow.Add(-tolerance), testBody),
		},
		{
			name:   "timestamp exactly tolerance in future",
			header: Sign(secretOld, testNow.Add(tolerance), testBody),
		},
		{
			name:   "timestamp changed after signing",
			header: "t=" + strconv.FormatInt(testNow.Unix()+1, 10) + ",v1=" + v1(secretOld, testNow, testBody),
			want:   ErrBadSignature,
		},
		{
			name:   "two v1 entries, second matches",
			header: "t=" + ts + ",v1=" + v1(secretWrong, testNow, testBody) + ",v1=" + v1(secretNew, testNow, testBody),
		},
		{
			name:   "two v1 entries, none matches",
			header: "t=" + ts + ",v1=" + v1(secretWrong, testNow, testBody) + ",v1=" + strings.Repeat("0", 64),
			want:   ErrBadSignature,
		},
		{
			name:   "unknown keys ignored, spaces tolerated",
			header: "v0=zzz, t=" + ts + " , foo=bar,v1=" + v1(secretOld, testNow, testBody),
		},
		{
			name:   "uppercase hex accepted",
			header: "t=" + ts + ",v1=" + strings.ToUpper(v1(secretOld, testNow, testBody)),
		},
		{
			name:    "no secrets configured",
			secrets: [][]byte{},
			header:  Sign(secretOld, testNow, testBody),
			want:    ErrBadSignature,
		},
		{
			name:    "only empty secret configured",
			secrets: [][]byte{nil, {}},
			header:  Sign(nil, testNow, testBody),
			want:    ErrBadSignature,
		},
		{name: "missing header", header: "", want: ErrMissingSignature},
		{name: "blank header", header: "  \t ", want: ErrMissingSignature},
		{name: "timestamp not a number", header: "t=abc,v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "timestamp negative", header: "t=-1,v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "timestamp with plus sign", header: "t=+" + ts + ",v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "timestamp huge", header: "t=9223372036854775807,v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "timestamp after year 9999", header: "t=253402300800,v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "timestamp empty", header: "t=,v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "duplicate t", header: "t=" + ts + ",t=" + ts + ",v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "no v1", header: "t=" + ts, want: ErrMalformedSignature},
		{name: "no v1, only v0", header: "t=" + ts + ",v0=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "no t", header: "v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{name: "v1 not hex", header: "t=" + ts + ",v1=" + strings.Repeat("zz", 32), want: ErrMalformedSignature},
		{name: "v1 empty", header: "t=" + ts + ",v1=", want: ErrMalformedSignature},
		{name: "v1 too short", header: "t=" + ts + ",v1=" + v1(secretOld, testNow, testBody)[:62], want: ErrMalformedSignature},
		{name: "empty values", header: "t=,v1=", want: ErrMalformedSignature},
		{name: "only commas", header: ",,,", want: ErrMalformedSignature},
		{name: "trailing comma", header: Sign(secretOld, testNow, testBody) + ",", want: ErrMalformedSignature},
		{name: "part without equals", header: "t=" + ts + ",garbage,v1=" + v1(secretOld, testNow, testBody), want: ErrMalformedSignature},
		{
			name:   "5 KiB header",
			header: Sign(secretOld, testNow, testBody) + ",x=" + strings.Repeat("a", 5<<10),
			want:   ErrMalformedSignature,
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			secrets := tc.secrets
			if secrets == nil {
				secrets = [][]byte{secretOld, secretNew}
			}
			body := tc.body
			if body == nil {
				body = testBody
			}
			v := NewVerifier(secrets, tolerance, fixedNow)
			err := v.Verify(tc.header, body)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify(%q) = %v, want nil", tc.header, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify(%q) = %v, want %v", tc.header, err, tc.want)
			}
		})
	}
}

func TestSignFormat(t *testing.T) {
	h := Sign(secretOld, testNow, testBody)
	if !strings.HasPrefix(h, "t=1700000000,v1=") {
		t.Fatalf("Sign = %q, want prefix t=1700000000,v1=", h)
	}
	mac := strings.TrimPrefix(h, "t=1700000000,v1=")
	if len(mac) != 64 || strings.ToLower(mac) != mac {
		t.Fatalf("v1 = %q, want 64 lowercase hex digits", mac)
	}
	// Known answers, computed independently with
	//   printf '<t>.<body>' | openssl dgst -sha256 -hmac <secret>
	kat := []struct {
		secret, body string
		t            int64
		want         string
	}{
		{"key", "", 1, "t=1,v1=53123bc365c2fe4bee48bc5cc6cd6c19699147d43513154ed34277c7c063e80f"},
		{"whsec_test", `{"a":1}`, 1700000000, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"},
	}
	for _, k := range kat {
		if got := Sign([]byte(k.secret), time.Unix(k.t, 0), []byte(k.body)); got != k.want {
			t.Errorf("Sign(%q, %d, %q) = %q, want %q", k.secret, k.t, k.body, got, k.want)
		}
	}
}

func TestNewVerifierCopiesSecrets(t *testing.T) {
	secret := []byte("mutable-secret")
	v := NewVerifier([][]byte{secret}, tolerance, fixedNow)
	header := Sign([]byte("mutable-secret"), testNow, testBody)
	copy(secret, "XXXXXXXXXXXXXX")
	if err := v.Verify(header, testBody); err != nil {
		t.Fatalf("Verify after caller mutated secret: %v", err)
	}
}

func TestNewVerifierDefaults(t *testing.T) {
	// nil now falls back to the wall clock.
	v := NewVerifier([][]byte{secretOld}, time.Minute, nil)
	if err := v.Verify(Sign(secretOld, time.Now(), testBody), testBody); err != nil {
		t.Fatalf("Verify with nil now: %v", err)
	}
	// Negative tolerance behaves like zero.
	v = NewVerifier([][]byte{secretOld}, -time.Hour, fixedNow)
	if err := v.Verify(Sign(secretOld, testNow, testBody), testBody); err != nil {
		t.Fatalf("Verify at exact time with negative tolerance: %v", err)
	}
	if err := v.Verify(Sign(secretOld, testNow.Add(-time.Second), testBody), testBody); !errors.Is(err, ErrTimestampOutOfRange) {
		t.Fatalf("Verify 1s old with negative tolerance = %v, want ErrTimestampOutOfRange", err)
	}
}

func TestVerifySubSecondNow(t *testing.T) {
	// The header has one-second resolution; a now with a fractional second
	// must not push a signature exactly at the tolerance out of range.
	now := testNow.Add(999 * time.Millisecond)
	v := NewVerifier([][]byte{secretOld}, tolerance, func() time.Time { return now })
	if err := v.Verify(Sign(secretOld, testNow.Add(-tolerance), testBody), testBody); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := NewVerifier([][]byte{secretOld, secretNew}, tolerance, fixedNow)
	good := Sign(secretNew, testNow, testBody)
	bad := Sign(secretWrong, testNow, testBody)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if err := v.Verify(good, testBody); err != nil {
					t.Errorf("Verify(good) = %v", err)
					return
				}
				if err := v.Verify(bad, testBody); !errors.Is(err, ErrBadSignature) {
					t.Errorf("Verify(bad) = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func FuzzVerify(f *testing.F) {
	ts := strconv.FormatInt(testNow.Unix(), 10)
	f.Add(Sign(secretOld, testNow, testBody), testBody)
	f.Add(Sign(secretNew, testNow, testBody), testBody)
	f.Add("t="+ts+",v1="+v1(secretWrong, testNow, testBody)+",v1="+v1(secretOld, testNow, testBody), testBody)
	f.Add("", []byte(nil))
	f.Add("t=abc,v1=..", []byte("x"))
	f.Add("t=-1,v1=00", []byte("x"))
	f.Add("t=99999999999999999999,v1=", []byte{})
	f.Add(",,=,=", []byte{0xff})
	f.Add("v0=a, t= 1 ,v1=ZZ", []byte("{}"))

	v := NewVerifier([][]byte{secretOld, secretNew}, tolerance, fixedNow)
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		err := v.Verify(header, body)
		if err == nil {
			return
		}
		for _, s := range []error{ErrMissingSignature, ErrMalformedSignature, ErrTimestampOutOfRange, ErrBadSignature} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("Verify(%q) returned non-sentinel error %v", header, err)
	})
}
