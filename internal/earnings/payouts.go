package earnings

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/clock"
	"configmarket/internal/idempotency"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// Balances and payouts (SPEC §8).

// SPEC's defaults of the settings payout.minimum and payout.hold_days, which
// decide (internal/settings); tests use these.
const (
	// MinimumPayout is the smallest payout, 1,000.00 RUB in kopecks.
	MinimumPayout int64 = 100_000
	// PayoutHold keeps an earning out of the available balance for 14 days
	// after its payment, so that refunds can land first; reversals are never
	// held.
	PayoutHold = 14 * 24 * time.Hour
	// maxFailureReasonLen bounds the reason an admin gives for a failure.
	maxFailureReasonLen = 1000
)

// payoutMethods are the methods each party and status may be paid by. SPEC
// §6 gives them per developer status; it names none for partners, so a
// partner is paid by bank account only, the one method every developer
// status has, and the only one that fits a partner company's contract.
var payoutMethods = map[store.Party]map[string][]store.PayoutMethod{
	store.PartyDeveloper: {
		string(StatusBasic):    {store.PayoutEWallet, store.PayoutBankCard, store.PayoutBankAccount},
		string(StatusStandard): {store.PayoutBankAccount},
		string(StatusPremium):  {store.PayoutBankAccount},
	},
	store.PartyPartner: {
		string(PartnerAgent):      {store.PayoutBankAccount},
		string(PartnerDealer):     {store.PayoutBankAccount},
		string(PartnerIntegrator): {store.PayoutBankAccount},
	},
}

// PayoutMethods lists the methods a party (developer or partner) of a
// status may choose.
func PayoutMethods(party store.Party, status string) []store.PayoutMethod {
	return slices.Clone(payoutMethods[party][status])
}

func knownPayoutMethod(method store.PayoutMethod) bool {
	switch method {
	case store.PayoutEWallet, store.PayoutBankCard, store.PayoutBankAccount:
		return true
	}
	return false
}

func joinMethods(methods []store.PayoutMethod) string {
	names := make([]string, len(methods))
	for i, m := range methods {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// Payouts is the balance and payout service.
type Payouts struct {
	store    *store.Store
	clock    clock.Clock
	settings settings.Source
}

// NewPayouts builds the service, on SPEC's defaults until UseSettings.
func NewPayouts(st *store.Store, clk clock.Clock) *Payouts {
	return &Payouts{store: st, clock: clk, settings: settings.Fixed(settings.Defaults())}
}

// UseSettings makes the hold and the minimum come from src, read at each
// request.
func (s *Payouts) UseSettings(src settings.Source) { s.settings = src }

// PartyBalance is where a developer's or partner's money stands.
type PartyBalance struct {
	Party   store.Party
	PartyID uuid.UUID
	// Total is every ledger entry of the party, on hold or not.
	Total money.Money
	// Available may be paid out: positive entries that occurred at or
	// before HoldUntil plus every negative entry (a refund's reversal counts
	// the moment it is written), minus payouts requested or paid. Refunds
	// can make it negative; future earnings then net against it.
	Available money.Money
	// OnHold is the positive entries newer than HoldUntil.
	OnHold money.Money
	// PaidOrRequested is the payouts not failed.
	PaidOrRequested money.Money
	HoldUntil       time.Time
}

func checkPayoutParty(party store.Party) error {
	if _, ok := payoutMethods[party]; !ok {
		return apperr.Invalid("party", "party must be a developer or a partner")
	}
	return nil
}

// Balance returns a party's balance (developer or partner).
func (s *Payouts) Balance(ctx context.Context, v identity.Viewer, party store.Party, id uuid.UUID) (PartyBalance, error) {
	// An anonymous viewer is told to log in whatever it asked for.
	if err := checkPayoutParty(party); err != nil && !v.Anonymous() {
		return PartyBalance{}, err
	}
	// SECURITY: only the party itself and admins (see MayReadParty).
	if !MayReadParty(v, party, id) {
		return PartyBalance{}, apperr.Hidden(v, "only the party itself and admins see a balance")
	}
	set, err := s.settings.Snapshot(ctx)
	if err != nil {
		return PartyBalance{}, err
	}
	holdUntil := s.clock.Now().Add(-set.Duration(settings.PayoutHold))
	total, available, onHold, out, err := s.store.Balance(ctx, party, id, holdUntil)
	if err != nil {
		return PartyBalance{}, err
	}
	rub := func(minor int64) money.Money { return money.New(minor, money.RUB) }
	return PartyBalance{
		Party: party, PartyID: id, Total: rub(total), Available: rub(available), OnHold: rub(onHold),
		PaidOrRequested: rub(out), HoldUntil: holdUntil,
	}, nil
}

// payoutParty is the party the viewer acts for.
func payoutParty(v identity.Viewer) (store.Party, uuid.UUID, error) {
	if v.Anonymous() {
		return "", uuid.Nil, apperr.Unauthenticated("log in first")
	}
	// SECURITY: a developer or partner requests payouts of its own balance
	// only: the party is the one the session acts for, never an argument,
	// so no one can draw on another party's money. Customers and admins
	// have no balance to draw on.
	switch {
	case v.Role == identity.RoleDeveloper && v.ActingFor != uuid.Nil:
		return store.PartyDeveloper, v.ActingFor, nil
	case v.Role == identity.RolePartner && v.ActingFor != uuid.Nil:
		return store.PartyPartner, v.ActingFor, nil
	}
	return "", uuid.Nil, apperr.Forbidden("only developers and partners request payouts")
}

// RequestPayout asks for amount of the viewer's own developer or partner
// balance to be paid by method, once per idempotency key. The amount must
// be at least the minimum (setting payout.minimum) and at most the available balance, and the
// method one the party's status allows. The party's row is locked first,
// so concurrent requests are decided one after another, each against the
// balance the previous ones left: together they never exceed it.
func (s *Payouts) RequestPayout(ctx context.Context, v identity.Viewer, amount money.Money, method store.PayoutMethod, idempotencyKey string) (store.Payout, error) {
	party, id, err := payoutParty(v)
	if err != nil {
		return store.Payout{}, err
	}
	set, err := s.settings.Snapshot(ctx)
	if err != nil {
		return store.Payout{}, err
	}
	minimum, hold := set.Money(settings.PayoutMinimum), set.Duration(settings.PayoutHold)
	if amount.Currency != money.RUB {
		return store.Payout{}, apperr.Invalid("input.amount", "payouts are made in %s", money.RUB).WithCode("PAYOUT_CURRENCY_INVALID")
	}
	if amount.Minor < minimum.Minor {
		return store.Payout{}, apperr.Invalid("input.amount", "the minimum payout is %s", minimum).WithCode("PAYOUT_BELOW_MINIMUM")
	}
	if !knownPayoutMethod(method) {
		return store.Payout{}, apperr.Invalid("input.method", "method must be e_wallet, bank_card or bank_account").WithCode("PAYOUT_METHOD_INVALID")
	}
	input := map[string]any{"party": party, "partyId": id, "amount": amount, "method": method}
	return s.onceForKey(ctx, v, idempotencyKey, "requestPayout", input, func(q *store.Queries, now time.Time) (store.Payout, error) {
		status, err := q.LockParty(ctx, party, id)
		if apperr.Is(err, apperr.KindNotFound) {
			return store.Payout{}, apperr.NotFound("no such %s", party)
		}
		if err != nil {
			return store.Payout{}, err
		}
		if allowed := payoutMethods[party][status]; !slices.Contains(allowed, method) {
			return store.Payout{}, apperr.FailedPrecondition("a %s %s is paid by %s", status, party, joinMethods(allowed)).
				WithCode("PAYOUT_METHOD_NOT_ALLOWED").WithField("input", "method")
		}
		// Read after the lock: under READ COMMITTED this statement sees
		// every payout committed by the requests that held it before.
		_, available, _, _, err := q.Balance(ctx, party, id, now.Add(-hold))
		if err != nil {
			return store.Payout{}, err
		}
		if amount.Minor > available {
			return store.Payout{}, apperr.FailedPrecondition("the available balance is %s", money.New(available, money.RUB)).
				WithCode("INSUFFICIENT_BALANCE").WithField("input", "amount")
		}
		p := store.Payout{Party: party, Amount: amount, Method: method, RequestedBy: &v.UserID, RequestedAt: now}
		if party == store.PartyDeveloper {
			p.DeveloperID = &id
		} else {
			p.PartnerID = &id
		}
		out, err := q.InsertPayout(ctx, p)
		if err != nil {
			return store.Payout{}, err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypePayout, out.ID))
		audit.SetAmount(ctx, out.Amount)
		return out, nil
	})
}

// onceForKey runs a payout request once per idempotency key (see package
// idempotency); a repeat returns the payout the first one made as it
// stands now.
func (s *Payouts) onceForKey(ctx context.Context, v identity.Viewer, key, operation string, input any,
	run func(q *store.Queries, now time.Time) (store.Payout, error)) (store.Payout, error) {
	return idempotency.Once(ctx, s.store, v.UserID, key, operation, input,
		func(q *store.Queries) (store.Payout, error) { return run(q, s.clock.Now()) },
		func(q *store.Queries, first store.Payout) (store.Payout, error) {
			rows, err := q.PayoutsByIDs(ctx, []uuid.UUID{first.ID})
			if err != nil {
				return store.Payout{}, err
			}
			if len(rows) != 1 {
				return store.Payout{}, fmt.Errorf("%s: payout %s of an idempotency key is gone", operation, first.ID)
			}
			return rows[0], nil
		})
}

// DecidePayout marks a requested payout paid, or failed with a reason
// (admin). A failed payout stops counting against the balance, which
// returns its amount. Repeating the decision already taken returns the
// payout unchanged; reversing a decision is refused. reason is required
// for a failure and ignored for a payment.
func (s *Payouts) DecidePayout(ctx context.Context, v identity.Viewer, payoutID uuid.UUID, paid bool, reason string) (store.Payout, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypePayout, payoutID))
	if v.Anonymous() {
		return store.Payout{}, apperr.Unauthenticated("log in first")
	}
	// SECURITY: only admins decide payouts: they move the platform's money
	// to a party, after checks made outside the platform.
	if !v.IsAdmin() {
		return store.Payout{}, apperr.Forbidden("only admins decide payouts")
	}
	state, failure := store.PayoutPaid, (*string)(nil)
	if !paid {
		reason = strings.TrimSpace(reason)
		if n := utf8.RuneCountInString(reason); n < 1 || n > maxFailureReasonLen {
			return store.Payout{}, apperr.Invalid("input.reason", "a reason of 1 to %d characters is required", maxFailureReasonLen).WithCode("REASON_REQUIRED")
		}
		state, failure = store.PayoutFailed, &reason
	}
	var out store.Payout
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		p, err := q.LockPayout(ctx, payoutID)
		if apperr.Is(err, apperr.KindNotFound) {
			return apperr.NotFound("no such payout").WithField("input", "payoutId")
		}
		if err != nil {
			return err
		}
		switch p.State {
		case store.PayoutRequested:
		case state:
			out = p
			return nil
		default:
			return apperr.FailedPrecondition("the payout is already %s", p.State).WithCode("PAYOUT_ALREADY_DECIDED")
		}
		if out, err = q.DecidePayout(ctx, p.ID, state, failure, s.clock.Now()); err != nil {
			return err
		}
		if paid {
			// The money left the platform; a failed payout moved none
			// (its amount counts in the balance again).
			audit.SetAmount(ctx, out.Amount)
		}
		return nil
	}, store.Audit(audit.From(ctx)))
	return out, err
}

// PayoutPage is a page of payouts, newest first, with their cursors.
type PayoutPage = relay.Connection[store.Payout]

// Payouts lists a party's payouts, newest first. A viewer that may not
// read them gets apperr.Hidden.
func (s *Payouts) Payouts(ctx context.Context, v identity.Viewer, party store.Party, id uuid.UUID, first *int, after *string) (PayoutPage, error) {
	// SECURITY: only the party itself and admins (see MayReadParty).
	if !MayReadParty(v, party, id) {
		return PayoutPage{}, hiddenParty(v)
	}
	if err := checkPayoutParty(party); err != nil {
		return PayoutPage{}, err
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return PayoutPage{}, err
	}
	rows, err := s.store.PayoutsPage(ctx, party, id, key, limit+1)
	if err != nil {
		return PayoutPage{}, err
	}
	return relay.Cut(rows, limit, func(p store.Payout) string { return relay.EncodeCursor(p.RequestedAt, p.ID) }), nil
}

// PayoutsByIDs returns the payouts among ids that v may read.
func (s *Payouts) PayoutsByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Payout, error) {
	if v.Anonymous() {
		return nil, nil
	}
	rows, err := s.store.PayoutsByIDs(ctx, ids)
	var out []store.Payout
	for _, p := range rows {
		// SECURITY: only the party itself and admins (see MayReadParty).
		if MayReadParty(v, p.Party, p.PartyID()) {
			out = append(out, p)
		}
	}
	return out, err
}

// payoutStates are the states a payout queue may be narrowed to.
var payoutStates = map[store.PayoutState]bool{store.PayoutRequested: true, store.PayoutPaid: true, store.PayoutFailed: true}

// PayoutQueue lists every developer's and partner's payouts in the states
// (none: all), the oldest requested first: the queue admins decide
// payouts from.
func (s *Payouts) PayoutQueue(ctx context.Context, v identity.Viewer, states []store.PayoutState, args relay.PageArgs) (PayoutPage, error) {
	// SECURITY: admins only: the queue holds every party's payouts, and
	// only admins decide them (DecidePayout); each party reads its own
	// through Payouts.
	if !v.IsAdmin() {
		return PayoutPage{}, apperr.Hidden(v, "only admins read the payout queue")
	}
	for _, st := range states {
		if !payoutStates[st] {
			return PayoutPage{}, apperr.Invalid("states", "unknown payout state %q", st)
		}
	}
	if len(states) == 0 {
		states = nil
	}
	limit, key, err := relay.TimePage(args.First, args.After)
	if err != nil {
		return PayoutPage{}, err
	}
	rows, err := s.store.PayoutQueue(ctx, states, key, limit+1)
	if err != nil {
		return PayoutPage{}, err
	}
	page := relay.Cut(rows, limit, func(p store.Payout) string { return relay.EncodeCursor(p.RequestedAt, p.ID) })
	return page.Counted(args, func() (int, error) { return s.store.PayoutQueueCount(ctx, states) })
}
