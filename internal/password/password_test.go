package password

import (
	"strings"
	"testing"
)

// cheap keeps the race-instrumented suite fast; Default is checked by shape.
var cheap = Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h, err := NewHasher(cheap)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", enc)
	}
	if ok, err := h.Verify("correct horse battery staple", enc); !ok || err != nil {
		t.Fatalf("right password: ok=%v err=%v", ok, err)
	}
	if ok, _ := h.Verify("Correct horse battery staple", enc); ok {
		t.Fatal("wrong password verified")
	}
	again, _ := h.Hash("correct horse battery staple")
	if again == enc {
		t.Fatal("two hashes of one password must differ by salt")
	}
}

func TestDefaultParamsAreOWASP(t *testing.T) {
	if Default.MemoryKiB != 19456 || Default.Iterations != 2 || Default.Parallelism != 1 {
		t.Fatalf("Default = %+v", Default)
	}
}

func TestVerifyAcceptsOlderParamsAndFlagsRehash(t *testing.T) {
	old, _ := NewHasher(cheap)
	enc, _ := old.Hash("pw")
	stronger := cheap
	stronger.Iterations = 2
	h, _ := NewHasher(stronger)
	if ok, err := h.Verify("pw", enc); !ok || err != nil {
		t.Fatalf("old hash must still verify: ok=%v err=%v", ok, err)
	}
	if !h.NeedsRehash(enc) || h.NeedsRehash(mustHash(t, h, "pw")) {
		t.Fatal("NeedsRehash wrong")
	}
}

func TestMalformedHashes(t *testing.T) {
	h, _ := NewHasher(cheap)
	for _, enc := range []string{
		"", "plain", "$2a$10$bcrypt", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5",
	} {
		if ok, err := h.Verify("pw", enc); ok || err == nil {
			t.Errorf("%q: ok=%v err=%v, want malformed", enc, ok, err)
		}
	}
}

func mustHash(t *testing.T, h *Hasher, pw string) string {
	t.Helper()
	enc, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	return enc
}
