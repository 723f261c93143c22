package commerce

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// LicenseStatus answers the CRM's license check. For a key that does not
// match the account, only Valid=false is set: nothing tells a guessed key
// from a real one of another account.
type LicenseStatus struct {
	Valid           bool
	ConfigurationID uuid.UUID
	Mode            store.InstallationMode
	// ValidUntil is the end of the trial or the paid rental period; nil for
	// a purchase, which never expires.
	ValidUntil *time.Time
}

// LicenseLimiter spends one check of a key's or a client's budget.
type LicenseLimiter func(ctx context.Context, key string) bool

// CheckLicense tells whether key is valid for the CRM account now. Checks
// are rate-limited per key and per client IP, so keys cannot be guessed
// by volume.
func (s *Service) CheckLicense(ctx context.Context, key, accountID string) (LicenseStatus, error) {
	inst, ok, err := s.LicensedInstallation(ctx, key, accountID)
	if err != nil || !ok {
		return LicenseStatus{}, err
	}
	st := LicenseStatus{Valid: true, ConfigurationID: inst.ConfigurationID, Mode: inst.Mode}
	switch {
	case inst.State == store.InstallationTrialing:
		st.ValidUntil = inst.TrialEndsAt
	case inst.Mode == store.ModeRent:
		st.ValidUntil = inst.CurrentPeriodEnd
	}
	return st, nil
}

// LicensedInstallation is the installation key licenses for the CRM
// account now; ok is false for an unknown, foreign, expired, unpaid or
// held key alike. Rate-limited like CheckLicense (the CRM's package
// downloads go through it too).
func (s *Service) LicensedInstallation(ctx context.Context, key, accountID string) (inst store.Installation, ok bool, err error) {
	if s.licenseLimit != nil {
		sum := sha256.Sum256([]byte(key))
		if !s.licenseLimit(ctx, "license:key:"+hex.EncodeToString(sum[:12])) ||
			!s.licenseLimit(ctx, "license:ip:"+identity.OriginFrom(ctx).IP.String()) {
			return store.Installation{}, false, apperr.RateLimited("too many license checks; retry later").WithCode("RATE_LIMITED")
		}
	}
	if len(key) == 0 || len(key) > 100 || len(accountID) == 0 || len(accountID) > 200 {
		return store.Installation{}, false, nil
	}
	inst, account, err := s.store.InstallationByLicenseKey(ctx, key)
	if apperr.Is(err, apperr.KindNotFound) {
		return store.Installation{}, false, nil
	}
	if err != nil {
		return store.Installation{}, false, err
	}
	if account == nil || *account != accountID || !licensed(inst, s.clock.Now()) {
		return store.Installation{}, false, nil
	}
	// A chargeback took the money back: invalid until an admin restores it.
	if held, err := s.store.LicenseHeld(ctx, inst.ID); err != nil || held {
		return store.Installation{}, false, err
	}
	return inst, true, nil
}

// licensed: trials until they end, rentals while active or past due (the
// 14-day grace), purchases forever once not canceled.
func licensed(i store.Installation, now time.Time) bool {
	switch i.State {
	case store.InstallationTrialing:
		// A trial converted to a rental runs on into its first period.
		return i.Mode == store.ModeRent || (i.TrialEndsAt != nil && now.Before(*i.TrialEndsAt))
	case store.InstallationActive, store.InstallationPastDue:
		return true
	}
	return false
}
