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
	"configmarket/internal/settings"
)

// Login protection (SPEC §9): failures are counted per account (by the
// email asked for, existing or not, so the answer tells nothing) and per
// client IP over a window; past a limit, logins are refused until the
// window has passed since the last failure. The window and the limits are
// the settings login.failure_window_minutes, login.max_account_failures and
// login.max_ip_failures, read at each login (SPEC's defaults: 15 minutes,
// 10 and 50).
type lockout struct {
	window      time.Duration
	account, ip int64
}

// lockout is the limits in force; SPEC's defaults when the settings cannot
// be read, so a settings outage never opens the door.
func (t *throttle) lockout(ctx context.Context) lockout {
	set, err := t.settings.Snapshot(ctx)
	if err != nil {
		set = settings.Defaults()
	}
	return lockout{
		window:  set.Duration(settings.LoginFailureWindow),
		account: set.Count(settings.LoginAccountFailure),
		ip:      set.Count(settings.LoginIPFailures),
	}
}

var errLocked = apperr.RateLimited("too many failed logins; try again later").WithCode("LOGIN_LOCKED")

// DefaultLoginBackoff is the first delay of a failed login's answer; it
// doubles with every further failure of the account or IP, up to
// maxLoginBackoff, until the lock-out.
const (
	DefaultLoginBackoff = 250 * time.Millisecond
	maxLoginBackoff     = 4 * time.Second
	// freeFailures are typos: answered at once.
	freeFailures = 2
)

// throttle counts failures in the shared cache, or in this process when
// the cache is down: it never fails open.
type throttle struct {
	shared   cache.Cache
	local    *cache.Memory
	backoff  time.Duration
	settings settings.Source
}

func newThrottle(c cache.Cache) *throttle {
	return &throttle{shared: c, local: cache.NewMemory(100_000), backoff: DefaultLoginBackoff, settings: settings.Fixed(settings.Defaults())}
}

// delay is how long the answer to the n-th failure in a row waits: zero
// for the first two, then backoff, doubling, capped. Guessing gets slower
// long before the lock-out, at the cost of one waiting goroutine.
func (t *throttle) delay(n int64) time.Duration {
	if n <= freeFailures {
		return 0
	}
	d := t.backoff
	for i := int64(freeFailures + 1); i < n && d < maxLoginBackoff; i++ {
		d *= 2
	}
	return min(d, maxLoginBackoff)
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
	l := t.lockout(ctx)
	if t.count(ctx, keys[0]) >= l.account {
		return true
	}
	return len(keys) > 1 && t.count(ctx, keys[1]) >= l.ip
}

// failed counts a failure and holds the answer for its delay; unknown
// accounts go through the same, so timing tells nothing.
func (t *throttle) failed(ctx context.Context, email string) {
	var worst int64
	l := t.lockout(ctx)
	for i, k := range failureKeys(ctx, email) {
		n, err := t.shared.Incr(ctx, k, l.window)
		if err != nil {
			n, _ = t.local.Incr(ctx, k, l.window)
		}
		if i > 0 {
			// An IP (a shared office) gets the slack its limit has.
			n = n * l.account / l.ip
		}
		worst = max(worst, n)
	}
	if d := t.delay(worst); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
}

func (t *throttle) succeeded(ctx context.Context, email string) {
	k := failureKeys(ctx, email)[0]
	_ = t.shared.Delete(ctx, k)
	_ = t.local.Delete(ctx, k)
}
