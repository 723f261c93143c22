// Package settings holds the numbers SPEC calls defaults (hold days, the
// minimum payout, status thresholds, pin terms, dunning days, trial limits,
// the pay-before-access window, login lock-out limits) as settings an admin
// changes through the API, with their history. Each key has a type, a unit,
// an allowed range and SPEC's default (the migration seeds the same values).
//
// Domains read a Snapshot when they apply a rule, never at start-up, so a
// change applies from then on without a restart: at once on the instance
// that made it (its cache is dropped on commit), within CacheTTL on the others.
package settings

import (
	"fmt"
	"strconv"
	"time"

	"configmarket/internal/money"
)

// Unit is what a setting's value counts.
type Unit string

const (
	UnitDays    Unit = "days"
	UnitHours   Unit = "hours"
	UnitMinutes Unit = "minutes"
	// UnitRUB values are kopecks, shown and entered as rubles ("1000.00").
	UnitRUB   Unit = "RUB"
	UnitCount Unit = "count"
)

// Typed keys: a domain can read a key only as the type its unit has.
type (
	// DurationKey names a setting in days, hours or minutes.
	DurationKey string
	// MoneyKey names an amount in RUB.
	MoneyKey string
	// CountKey names a plain number.
	CountKey string
)

// The settings (SPEC section in brackets).
const (
	PayoutHold          DurationKey = "payout.hold_days"             // §8
	PayoutMinimum       MoneyKey    = "payout.minimum"               // §8
	StandardSales       MoneyKey    = "status.standard_sales"        // §6
	PremiumSales        MoneyKey    = "status.premium_sales"         // §6
	PinTerm             DurationKey = "pin.term_days"                // §7
	PinPendingExpiry    DurationKey = "pin.pending_expiry_days"      // §7
	RentalPastDue       DurationKey = "rental.past_due_days"         // §4
	RentalCancel        DurationKey = "rental.cancel_days"           // §4
	PaymentWindow       DurationKey = "access.payment_window_hours"  // §4
	TrialDefaultDays    CountKey    = "trial.default_days"           // §2
	TrialMaxDays        CountKey    = "trial.max_days"               // §2
	TrialRetention      DurationKey = "trial.retention_days"         // §4
	LoginAccountFailure CountKey    = "login.max_account_failures"   // §9
	LoginIPFailures     CountKey    = "login.max_ip_failures"        // §9
	LoginFailureWindow  DurationKey = "login.failure_window_minutes" // §9
)

// Def describes one setting.
type Def struct {
	Key         string
	Unit        Unit
	Default     int64
	Min, Max    int64
	Description string
}

// defs are every setting, in the order the API lists them.
var defs = []Def{
	{string(PayoutHold), UnitDays, 14, 0, 90, "Days a positive earning stays out of the available balance, so refunds can land first."},
	{string(PayoutMinimum), UnitRUB, 1_000_00, 1_00, 1_000_000_00, "The smallest payout a developer or partner may request."},
	{string(StandardSales), UnitRUB, 5_000_00, 0, 100_000_000_00, "Sales in the last calendar month a developer needs for the standard status."},
	{string(PremiumSales), UnitRUB, 25_000_00, 0, 100_000_000_00, "Sales in the last calendar month a developer needs for the premium status (not below standard's)."},
	{string(PinTerm), UnitDays, 90, 1, 730, "Days a pin lasts from activation, and what a renewal adds."},
	{string(PinPendingExpiry), UnitDays, 14, 1, 90, "Days a paying customer has to confirm a pin request before it expires."},
	{string(RentalPastDue), UnitDays, 7, 1, 60, "Days after a period's start an unpaid invoice makes the rental past due."},
	{string(RentalCancel), UnitDays, 14, 1, 90, "Days after a period's start an unpaid invoice cancels the rental (after past due)."},
	{string(PaymentWindow), UnitHours, 48, 1, 720, "Hours a new rental or purchase waits for its first payment before it expires."},
	// 30 is also the database's bound on a configuration's trial days: the
	// maximum can be lowered, not raised.
	{string(TrialDefaultDays), UnitCount, 14, 0, 30, "Trial days of a new configuration (not above the maximum)."},
	{string(TrialMaxDays), UnitCount, 30, 0, 30, "The longest trial a developer may offer, in days (0 = no trials)."},
	{string(TrialRetention), UnitDays, 30, 0, 365, "Days an expired trial's data is kept."},
	{string(LoginAccountFailure), UnitCount, 10, 3, 1000, "Failed logins of one account within the window before it is locked out."},
	{string(LoginIPFailures), UnitCount, 50, 3, 100_000, "Failed logins from one IP address within the window before it is locked out."},
	{string(LoginFailureWindow), UnitMinutes, 15, 1, 1440, "Minutes failed logins are counted over; a lock-out lasts this long after the last failure."},
}

var byKey = func() map[string]Def {
	m := make(map[string]Def, len(defs))
	for _, d := range defs {
		m[d.Key] = d
	}
	return m
}()

// Defs lists every setting.
func Defs() []Def { return append([]Def(nil), defs...) }

// Lookup finds a setting's definition.
func Lookup(key string) (Def, bool) {
	d, ok := byKey[key]
	return d, ok
}

// Format writes v in the unit's notation: rubles with kopecks for RUB, an
// integer otherwise.
func (d Def) Format(v int64) string {
	if d.Unit == UnitRUB {
		return money.New(v, money.RUB).Amount()
	}
	return strconv.FormatInt(v, 10)
}

// Parse reads a value in the unit's notation.
func (d Def) Parse(s string) (int64, error) {
	if d.Unit == UnitRUB {
		m, err := money.Parse(s, money.RUB)
		return m.Minor, err
	}
	return strconv.ParseInt(s, 10, 64)
}

func (d Def) duration(v int64) time.Duration {
	switch d.Unit {
	case UnitDays:
		return time.Duration(v) * 24 * time.Hour
	case UnitHours:
		return time.Duration(v) * time.Hour
	case UnitMinutes:
		return time.Duration(v) * time.Minute
	}
	panic(fmt.Sprintf("settings: %s is not a duration", d.Key))
}

// Snapshot is every setting's value at one moment; a rule reads all it
// needs from one snapshot.
type Snapshot struct {
	values map[string]int64
}

func (s Snapshot) value(key string) int64 {
	if v, ok := s.values[key]; ok {
		return v
	}
	// A key the table lacks (a database older than the code) keeps its default.
	return byKey[key].Default
}

// Duration reads a setting in days, hours or minutes.
func (s Snapshot) Duration(k DurationKey) time.Duration {
	return byKey[string(k)].duration(s.value(string(k)))
}

// Money reads an amount.
func (s Snapshot) Money(k MoneyKey) money.Money { return money.New(s.value(string(k)), money.RUB) }

// Count reads a plain number.
func (s Snapshot) Count(k CountKey) int64 { return s.value(string(k)) }

// Defaults is SPEC's values, what the migration seeds.
func Defaults() Snapshot {
	m := make(map[string]int64, len(defs))
	for _, d := range defs {
		m[d.Key] = d.Default
	}
	return Snapshot{values: m}
}

// With is s with key set to v (tests of a domain without the table).
func (s Snapshot) With(key string, v int64) Snapshot {
	m := make(map[string]int64, len(s.values)+1)
	for k, x := range s.values {
		m[k] = x
	}
	m[key] = v
	return Snapshot{values: m}
}
