package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"configmarket/internal/apperr"
	"configmarket/internal/cache"
	"configmarket/internal/identity"
)

// Login protection (SPEC §9): failures are counted per account (by the
// email asked for, existing or not, so the answer tells nothing) and per
// client IP over a window; past a limit, logins are refused until the
// window has passed since the last failure.
const (
	failureWindow      = 15 * time.Minute
	maxAccountFailures = 10
	maxIPFailures      = 50
)

var errLocked = apperr.RateLimited("too many failed logins; try again later").WithCode("LOGIN_LOCKED")

// throttle counts failures in the shared cache, or in this process when
// the cache is down: it never fails open.
type throttle struct {
	shared cache.Cache
	local  *cache.Memory
}

func newThrottle(c cache.Cache) *throttle {
	return &throttle{shared: c, local: cache.NewMemory(100_000)}
}

func failureKeys(ctx context.Context, email string) []string {
	sum := sha256.Sum256([]byte(email))
	keys := []string{"v1:login:fail:account:" + hex.EncodeToString(sum[:12])}
	if ip := identity.OriginFrom(ctx).IP; ip.IsValid() {
		keys = append(keys, "v1:login:fail:ip:"+ip.String())
	}
	return keys
}

func (t *throttle) count(ctx context.Context, key string) int64 {
	b, ok, err := t.shared.Get(ctx, key)
	if err != nil {
		b, ok, _ = t.local.Get(ctx, key)
	}
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(string(b), 10, 64)
	return n
}

// locked reports whether the account or the IP is past its limit.
func (t *throttle) locked(ctx context.Context, email string) bool {
	keys := failureKeys(ctx, email)
	if t.count(ctx, keys[0]) >= maxAccountFailures {
		return true
	}
	return len(keys) > 1 && t.count(ctx, keys[1]) >= maxIPFailures
}

func (t *throttle) failed(ctx context.Context, email string) {
	for _, k := range failureKeys(ctx, email) {
		if _, err := t.shared.Incr(ctx, k, failureWindow); err != nil {
			_, _ = t.local.Incr(ctx, k, failureWindow)
		}
	}
}

func (t *throttle) succeeded(ctx context.Context, email string) {
	k := failureKeys(ctx, email)[0]
	_ = t.shared.Delete(ctx, k)
	_ = t.local.Delete(ctx, k)
}
