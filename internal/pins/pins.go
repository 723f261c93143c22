// Package pins is deal protection: a partner pins a customer it brought to
// the platform, and while the pin is active the partner earns commission on
// the customer's payments and the platform's own sales stay away (SPEC §7).
//
// A pin is requested by the customer's tax number (INN) or CRM account id.
// A customer new to the platform (no payment yet) is pinned at once; a
// paying customer confirms first, within Rules.PendingExpireAfter, or the
// request expires and the customer is free for other partners. A pin lasts
// Rules.Term, the partner may renew it before it lapses, the admin may
// refuse it. At most one pin per
// customer is live (pending or active): the database's unique index
// pins_one_live_per_customer decides races between partners.
package pins

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/clock"
	"configmarket/internal/identity"
	"configmarket/internal/inn"
	"configmarket/internal/relay"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// Rules are the numbers of SPEC §7; tests use these defaults. Once the
// service UseSettings, they are read from the settings each time they apply.
type Rules struct {
	// Term is how long a pin lasts from activation, and how much a
	// renewal adds.
	Term time.Duration
	// PendingExpireAfter counts from a pending pin's request: a paying
	// customer that neither confirms nor declines by then frees itself
	// for other partners (the pin expires).
	PendingExpireAfter time.Duration
}

// DefaultRules are SPEC §7's: a pin lasts 90 days; a request left
// unanswered expires after 14.
var DefaultRules = Rules{
	Term:               90 * 24 * time.Hour,
	PendingExpireAfter: 14 * 24 * time.Hour,
}

// maxCRMAccountID bounds the CRM account id a partner may send.
const maxCRMAccountID = 200

// AuditExpire is the audit action of a pin the platform expires (a lapsed
// term or an unanswered request).
const AuditExpire = "expirePin"

// Service is the pins domain.
type Service struct {
	store *store.Store
	clock clock.Clock
	rules Rules
	// settings, when set, overrides rules (UseSettings).
	settings settings.Source
}

// UseSettings makes the term and the pending expiry come from src, read
// each time they apply.
func (s *Service) UseSettings(src settings.Source) { s.settings = src }

// rulesNow are the rules in force (settings.Overlay).
func (s *Service) rulesNow(ctx context.Context) (Rules, error) {
	return settings.Overlay(ctx, s.settings, s.rules, func(set settings.Snapshot, r Rules) Rules {
		r.Term, r.PendingExpireAfter = set.Duration(settings.PinTerm), set.Duration(settings.PinPendingExpiry)
		return r
	})
}

// New builds the service.
func New(st *store.Store, clk clock.Clock, rules Rules) *Service {
	return &Service{store: st, clock: clk, rules: rules}
}

// PinTarget names the customer a partner wants to pin: exactly one of its
// tax number and its CRM account id.
type PinTarget struct {
	INN          string
	CRMAccountID string
}

var (
	errPinNotFound      = apperr.NotFound("no such pin").WithCode("PIN_NOT_FOUND")
	errCustomerNotFound = apperr.NotFound("no such customer").WithCode("CUSTOMER_NOT_FOUND")
	errPinnedByOther    = apperr.Conflict("the customer is already pinned to another partner").WithCode("ALREADY_PINNED")
	errPinnedBySelf     = apperr.Conflict("you already pin this customer; renew the pin instead").WithCode("ALREADY_PINNED")
)

func requireRole(v identity.Viewer, role identity.Role, what string) error {
	if v.Anonymous() {
		return apperr.Unauthenticated("log in first")
	}
	if v.Role != role || (role != identity.RoleAdmin && v.ActingFor == uuid.Nil) {
		return apperr.Forbidden("only %s", what)
	}
	return nil
}

// lookup validates the partner's input and says how it names the customer.
func (t PinTarget) lookup() (via store.PinVia, value string, err error) {
	i, crm := strings.TrimSpace(t.INN), strings.TrimSpace(t.CRMAccountID)
	switch {
	case i != "" && crm != "":
		return "", "", apperr.Invalid("", "give the customer's tax number or its CRM account id, not both").WithCode("PIN_TARGET_INVALID")
	case i != "":
		if !inn.Valid(i) {
			return "", "", apperr.Invalid("inn", "tax number must have 10 or 12 digits with valid check digits").WithCode("INN_INVALID")
		}
		return store.PinViaINN, i, nil
	case crm != "":
		if len(crm) > maxCRMAccountID {
			return "", "", apperr.Invalid("crmAccountId", "CRM account id is too long").WithCode("PIN_TARGET_INVALID")
		}
		return store.PinViaCRMAccount, crm, nil
	}
	return "", "", apperr.Invalid("", "give the customer's tax number or its CRM account id").WithCode("PIN_TARGET_INVALID")
}

// PinCustomer asks to pin the customer named by target for the partner v
// acts for. A customer new to the platform is pinned at once for Term; a
// paying customer gets a pending pin that starts when it confirms.
func (s *Service) PinCustomer(ctx context.Context, v identity.Viewer, target PinTarget) (store.Pin, error) {
	// SECURITY: only a partner pins, and always for the partner it acts
	// for: the partner id comes from the verified token, never from input
	// (SPEC §1, §7).
	if err := requireRole(v, identity.RolePartner, "partners pin customers"); err != nil {
		return store.Pin{}, err
	}
	via, value, err := target.lookup()
	if err != nil {
		return store.Pin{}, err
	}
	partnerID := v.ActingFor
	rules, err := s.rulesNow(ctx)
	if err != nil {
		return store.Pin{}, err
	}
	now := s.clock.Now()
	var pin store.Pin
	var customerID uuid.UUID
	raced := false
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		raced = false
		c, err := q.FindPinCandidate(ctx, via, value)
		if apperr.Is(err, apperr.KindNotFound) {
			// SECURITY: the partner learns only that there is no such
			// customer, nothing about other accounts.
			return errCustomerNotFound
		}
		if err != nil {
			return err
		}
		customerID = c.CustomerID
		// A pin whose term ended, or a request left unanswered too long,
		// no longer holds the customer even if the expiry job has not run
		// yet: expire it now so that another partner may pin the customer.
		if _, err := s.expire(ctx, q, now, rules, &c.CustomerID); err != nil {
			return err
		}
		if err := refuseIfPinned(ctx, q, c.CustomerID, partnerID); err != nil {
			return err
		}
		n := store.NewPin{
			PartnerID: partnerID, CustomerID: c.CustomerID, State: store.PinPending,
			RequestedAt: now, RequestedBy: v.UserID, RequestedVia: via,
		}
		if !c.Paying {
			// New to the platform: the check above is all it takes.
			expires := now.Add(rules.Term)
			n.State, n.StartsAt, n.ExpiresAt, n.DecidedAt = store.PinActive, &now, &expires, &now
		}
		// Two partners racing past refuseIfPinned meet at the unique index
		// pins_one_live_per_customer: the later insert waits for the
		// earlier to commit and fails with ALREADY_PINNED.
		pin, err = q.InsertPin(ctx, n)
		if err != nil {
			raced = isAlreadyPinned(err)
			return err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypePin, pin.ID))
		if err := q.InsertPinEvent(ctx, store.PinEvent{PinID: pin.ID, Action: store.PinEventRequested, Actor: &v.UserID, CreatedAt: now}); err != nil {
			return err
		}
		if pin.State == store.PinActive {
			return q.InsertPinEvent(ctx, store.PinEvent{PinID: pin.ID, Action: store.PinEventActivated, ExpiresAt: pin.ExpiresAt, CreatedAt: now})
		}
		return nil
	}, store.Audit(audit.From(ctx)))
	if err != nil && raced {
		// Lost a race at the index: answer as if the winner had come
		// first (own pin or another partner's).
		if again := refuseIfPinned(ctx, s.store.Queries, customerID, partnerID); again != nil && isAlreadyPinned(again) {
			return store.Pin{}, again
		}
	}
	if err != nil {
		return store.Pin{}, err
	}
	return pin, nil
}

// refuseIfPinned fails with ALREADY_PINNED if the customer has a live pin.
func refuseIfPinned(ctx context.Context, q *store.Queries, customerID, partnerID uuid.UUID) error {
	live, found, err := q.LivePin(ctx, customerID)
	switch {
	case err != nil:
		return err
	case !found:
		return nil
	case live.PartnerID == partnerID:
		return errPinnedBySelf
	default:
		// SECURITY: the other partner is not named.
		return errPinnedByOther
	}
}

func isAlreadyPinned(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Code == "ALREADY_PINNED"
}

// change locks the pin, lets decide check it and compute the change, then
// applies it and records the event decide returns.
func (s *Service) change(ctx context.Context, pinID uuid.UUID, decide func(p store.Pin, now time.Time, r Rules) (store.PinChange, store.PinEvent, error)) (store.Pin, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypePin, pinID))
	rules, err := s.rulesNow(ctx)
	if err != nil {
		return store.Pin{}, err
	}
	now := s.clock.Now()
	var out store.Pin
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		p, err := q.LockPin(ctx, pinID)
		if apperr.Is(err, apperr.KindNotFound) {
			return errPinNotFound
		}
		if err != nil {
			return err
		}
		c, e, err := decide(p, now, rules)
		if err != nil {
			return err
		}
		if out, err = q.UpdatePin(ctx, p.ID, c); err != nil {
			return err
		}
		e.PinID, e.CreatedAt = p.ID, now
		return q.InsertPinEvent(ctx, e)
	}, store.Audit(audit.From(ctx)))
	if err != nil {
		return store.Pin{}, err
	}
	return out, nil
}

// ConfirmPin is the pinned customer's yes to a pending pin: the pin is
// active for Term from now.
func (s *Service) ConfirmPin(ctx context.Context, v identity.Viewer, pinID uuid.UUID) (store.Pin, error) {
	if err := requireRole(v, identity.RoleCustomer, "the pinned customer confirms a pin"); err != nil {
		return store.Pin{}, err
	}
	return s.change(ctx, pinID, func(p store.Pin, now time.Time, r Rules) (store.PinChange, store.PinEvent, error) {
		// SECURITY: only the pinned customer agrees to be pinned; to any
		// other customer the pin does not exist.
		if !v.IsCustomer(p.CustomerID) {
			return store.PinChange{}, store.PinEvent{}, errPinNotFound
		}
		if p.State != store.PinPending || r.unanswered(p, now) {
			return store.PinChange{}, store.PinEvent{}, apperr.FailedPrecondition("only a pending pin can be confirmed").WithCode("PIN_NOT_PENDING")
		}
		expires := now.Add(r.Term)
		return store.PinChange{State: store.PinActive, StartsAt: &now, ExpiresAt: &expires, DecidedAt: &now},
			store.PinEvent{Action: store.PinEventConfirmed, Actor: &v.UserID, ExpiresAt: &expires}, nil
	})
}

// DeclinePin is the pinned customer's no to a pending pin.
func (s *Service) DeclinePin(ctx context.Context, v identity.Viewer, pinID uuid.UUID) (store.Pin, error) {
	if err := requireRole(v, identity.RoleCustomer, "the pinned customer declines a pin"); err != nil {
		return store.Pin{}, err
	}
	return s.change(ctx, pinID, func(p store.Pin, now time.Time, r Rules) (store.PinChange, store.PinEvent, error) {
		// SECURITY: only the pinned customer answers its pin.
		if !v.IsCustomer(p.CustomerID) {
			return store.PinChange{}, store.PinEvent{}, errPinNotFound
		}
		if p.State != store.PinPending || r.unanswered(p, now) {
			return store.PinChange{}, store.PinEvent{}, apperr.FailedPrecondition("only a pending pin can be declined").WithCode("PIN_NOT_PENDING")
		}
		return store.PinChange{State: store.PinDeclined, DecidedAt: &now},
			store.PinEvent{Action: store.PinEventDeclined, Actor: &v.UserID}, nil
	})
}

// RenewPin extends the partner's active pin by Term from its current
// expiry, before it lapses. One renewal ahead at a time: a pin already
// renewed for its next term (more than Term left) cannot be renewed again,
// so a partner cannot lock a customer up for years in one go.
func (s *Service) RenewPin(ctx context.Context, v identity.Viewer, pinID uuid.UUID) (store.Pin, error) {
	if err := requireRole(v, identity.RolePartner, "the pin's partner renews it"); err != nil {
		return store.Pin{}, err
	}
	return s.change(ctx, pinID, func(p store.Pin, now time.Time, r Rules) (store.PinChange, store.PinEvent, error) {
		// SECURITY: only the partner that holds the pin renews it; to
		// other partners it does not exist.
		if !v.IsPartner(p.PartnerID) {
			return store.PinChange{}, store.PinEvent{}, errPinNotFound
		}
		if p.State != store.PinActive {
			return store.PinChange{}, store.PinEvent{}, apperr.FailedPrecondition("only an active pin can be renewed").WithCode("PIN_NOT_ACTIVE")
		}
		if !p.ExpiresAt.After(now) {
			return store.PinChange{}, store.PinEvent{}, apperr.FailedPrecondition("the pin has lapsed; pin the customer again").WithCode("PIN_LAPSED")
		}
		if p.ExpiresAt.Sub(now) > r.Term {
			return store.PinChange{}, store.PinEvent{}, apperr.FailedPrecondition("the pin is already renewed for its next term").WithCode("PIN_ALREADY_RENEWED")
		}
		expires := p.ExpiresAt.Add(r.Term)
		return store.PinChange{State: store.PinActive, ExpiresAt: &expires},
			store.PinEvent{Action: store.PinEventRenewed, Actor: &v.UserID, ExpiresAt: &expires}, nil
	})
}

// RefusePin is the admin ending a pending or active pin with a reason. An
// active pin stops protecting the deal now.
func (s *Service) RefusePin(ctx context.Context, v identity.Viewer, pinID uuid.UUID, reason string) (store.Pin, error) {
	// SECURITY: deciding pins is platform staff's (SPEC §1, §7).
	if err := requireRole(v, identity.RoleAdmin, "admins refuse pins"); err != nil {
		return store.Pin{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return store.Pin{}, apperr.Invalid("reason", "say why the pin is refused").WithCode("REASON_REQUIRED")
	}
	if len(reason) > 2000 {
		return store.Pin{}, apperr.Invalid("reason", "reason is too long (at most 2000 characters)").WithCode("REASON_TOO_LONG")
	}
	return s.change(ctx, pinID, func(p store.Pin, now time.Time, r Rules) (store.PinChange, store.PinEvent, error) {
		c := store.PinChange{State: store.PinRefused, DecidedAt: &now, Reason: &reason}
		switch {
		case p.State == store.PinPending && r.unanswered(p, now):
			return store.PinChange{}, store.PinEvent{}, apperr.FailedPrecondition("the request expired unanswered").WithCode("PIN_NOT_LIVE")
		case p.State == store.PinPending:
		case p.State == store.PinActive && p.ExpiresAt.After(now):
			// Commission stops accruing from now (the ledger reads
			// starts_at <= t < expires_at).
			c.ExpiresAt = &now
		case p.State == store.PinActive:
			return store.PinChange{}, store.PinEvent{}, apperr.FailedPrecondition("the pin has lapsed already").WithCode("PIN_LAPSED")
		default:
			return store.PinChange{}, store.PinEvent{}, apperr.FailedPrecondition("only a pending or active pin can be refused").WithCode("PIN_NOT_LIVE")
		}
		return c, store.PinEvent{Action: store.PinEventRefused, Actor: &v.UserID, Reason: &reason, ExpiresAt: c.ExpiresAt}, nil
	})
}

// ExpirePins is the periodic job: active pins whose term ended and pending
// pins the customer left unanswered for PendingExpireAfter are expired in
// one run, each with an "expired" event and an audit row of the system.
// Safe on several instances at once: each pin is updated once, under its
// row lock, and only the run that updated it writes its rows.
func (s *Service) ExpirePins(ctx context.Context) (expired int, err error) {
	rules, err := s.rulesNow(ctx)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		expired, err = s.expire(ctx, q, now, rules, nil)
		return err
	})
	return expired, err
}

// unanswered reports whether a pending pin's request is older than the
// customer has to answer it (the job may not have expired it yet).
func (r Rules) unanswered(p store.Pin, now time.Time) bool {
	return p.State == store.PinPending && !now.Before(p.RequestedAt.Add(r.PendingExpireAfter))
}

// expire expires the pins that are due at now (of one customer, if given)
// in q's transaction and writes each one's audit row as the platform: the
// job's, or the partner's request that found them due. It returns how many
// expired.
func (s *Service) expire(ctx context.Context, q *store.Queries, now time.Time, r Rules, customerID *uuid.UUID) (int, error) {
	ids, err := q.ExpireDuePins(ctx, now, now.Add(-r.PendingExpireAfter), customerID)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	sys := systemContext(ctx)
	for _, id := range ids {
		if err := q.InsertAudit(sys, &audit.Pending{Action: AuditExpire, Target: relay.UUIDID("Pin", id)}, audit.OK); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// systemContext is ctx acting as the platform itself: no viewer and no
// client address, so an expiry found during a partner's request is not
// recorded as that partner's act. The request id stays, to trace it.
func systemContext(ctx context.Context) context.Context {
	ctx = identity.WithViewer(ctx, identity.Viewer{})
	ctx = identity.WithOrigin(ctx, identity.Origin{RequestID: identity.OriginFrom(ctx).RequestID})
	return identity.AsSystem(ctx)
}

// MayReadPin decides who sees a pin of partner on customer.
func MayReadPin(v identity.Viewer, partner, customer uuid.UUID) bool {
	// SECURITY: the partner that holds the pin, the pinned customer (it
	// sees who pinned it) and admins; nobody else, through any path.
	return v.IsAdmin() || v.IsPartner(partner) || v.IsCustomer(customer)
}

// hiddenPins is the answer to a stranger asking for a partner's or a
// customer's pins.
func hiddenPins(v identity.Viewer) error {
	return apperr.Hidden(v, "only the pin's partner, its customer and admins read it")
}

// PinsByIDs returns the pins among ids that v may read, in no particular
// order (for loaders).
func (s *Service) PinsByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Pin, error) {
	if v.Anonymous() || len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.store.PinsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []store.Pin
	for _, p := range rows {
		if MayReadPin(v, p.PartnerID, p.CustomerID) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Page is a page of pins with their cursors.
type Page = relay.Connection[store.Pin]

var pinStates = map[store.PinState]bool{
	store.PinPending: true, store.PinActive: true, store.PinDeclined: true,
	store.PinExpired: true, store.PinRefused: true, store.PinReleased: true,
}

// PartnerPins lists a partner's pins, newest request first, optionally in
// some states only.
func (s *Service) PartnerPins(ctx context.Context, v identity.Viewer, partnerID uuid.UUID, states []store.PinState, first *int, after *string) (Page, error) {
	// SECURITY: a partner lists its own pins, admins any partner's (the
	// partner's side of MayReadPin).
	if !v.IsAdmin() && !v.IsPartner(partnerID) {
		return Page{}, hiddenPins(v)
	}
	for _, st := range states {
		if !pinStates[st] {
			return Page{}, apperr.Invalid("states", "unknown pin state %q", st)
		}
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return Page{}, err
	}
	if len(states) == 0 {
		states = nil
	}
	rows, err := s.store.PartnerPinsPage(ctx, partnerID, states, key, limit+1)
	if err != nil {
		return Page{}, err
	}
	return relay.Cut(rows, limit, func(p store.Pin) string { return relay.EncodeCursor(p.RequestedAt, p.ID) }), nil
}

// PinQueue lists every partner's pins in the states (none: all), the
// oldest requested first: the queue admins refuse pins from.
func (s *Service) PinQueue(ctx context.Context, v identity.Viewer, states []store.PinState, args relay.PageArgs) (Page, error) {
	// SECURITY: admins only: the queue holds every partner's pins on every
	// customer; a partner lists its own through PartnerPins.
	if !v.IsAdmin() {
		return Page{}, apperr.Hidden(v, "only admins read the pin queue")
	}
	for _, st := range states {
		if !pinStates[st] {
			return Page{}, apperr.Invalid("states", "unknown pin state %q", st)
		}
	}
	if len(states) == 0 {
		states = nil
	}
	limit, key, err := relay.TimePage(args.First, args.After)
	if err != nil {
		return Page{}, err
	}
	rows, err := s.store.PinQueue(ctx, states, key, limit+1)
	if err != nil {
		return Page{}, err
	}
	page := relay.Cut(rows, limit, func(p store.Pin) string { return relay.EncodeCursor(p.RequestedAt, p.ID) })
	return page.Counted(args, func() (int, error) { return s.store.PinQueueCount(ctx, states) })
}

// CustomerPins lists every pin requested on a customer, newest first: the
// customer sees who pinned it (partner id and name), the state and dates.
func (s *Service) CustomerPins(ctx context.Context, v identity.Viewer, customerID uuid.UUID) ([]store.Pin, error) {
	// SECURITY: the customer itself and admins. Partners see their own
	// pins through PartnerPins, never the customer's history with others.
	if !v.IsAdmin() && !v.IsCustomer(customerID) {
		return nil, hiddenPins(v)
	}
	return s.store.CustomerPins(ctx, customerID)
}

// Events is a pin's history, oldest first; apperr.Hidden for a pin v may
// not read, or none.
func (s *Service) Events(ctx context.Context, v identity.Viewer, pinID uuid.UUID) ([]store.PinEvent, error) {
	if v.Anonymous() {
		return nil, hiddenPins(v)
	}
	rows, err := s.store.PinsByIDs(ctx, []uuid.UUID{pinID})
	if err != nil {
		return nil, err
	}
	// SECURITY: the same readers as the pin itself.
	if len(rows) != 1 || !MayReadPin(v, rows[0].PartnerID, rows[0].CustomerID) {
		return nil, hiddenPins(v)
	}
	return s.store.PinEvents(ctx, pinID)
}
