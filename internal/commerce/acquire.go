package commerce

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/clock"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Charge is the outcome of a money-moving request: what it created. A
// repeat with the same idempotency key returns the same Charge.
type Charge struct {
	InstallationID *uuid.UUID `json:"installationId,omitempty"`
	InvoiceID      *uuid.UUID `json:"invoiceId,omitempty"`
	PaymentID      *uuid.UUID `json:"paymentId,omitempty"`
	RefundID       *uuid.UUID `json:"refundId,omitempty"`
}

// StartTrial starts the customer's one trial of a configuration: it lasts
// the configuration's trial days and gives everything a rental gives.
func (s *Service) StartTrial(ctx context.Context, v identity.Viewer, configurationID uuid.UUID) (store.Installation, error) {
	if err := requireCustomer(v); err != nil {
		return store.Installation{}, err
	}
	now := s.clock.Now()
	var inst store.Installation
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		c, err := s.installable(ctx, q, v, configurationID)
		if err != nil {
			return err
		}
		if c.TrialDays == 0 {
			return apperr.FailedPrecondition("this configuration has no trial").WithCode("NO_TRIAL")
		}
		prev, found, err := q.LockInstallation(ctx, v.ActingFor, c.ID)
		if err != nil {
			return err
		}
		if found && live(prev) {
			return apperr.Conflict("this configuration is already installed").WithCode("ALREADY_INSTALLED")
		}
		if err := dropPending(ctx, q, prev, found, now); err != nil {
			return err
		}
		ends := now.AddDate(0, 0, c.TrialDays)
		// One trial per customer and configuration, ever: the database
		// holds it (trials_once_per_customer → TRIAL_ALREADY_USED).
		if err := q.InsertTrial(ctx, v.ActingFor, c.ID, now, ends); err != nil {
			return err
		}
		ver, err := currentVersion(ctx, q, c.ID)
		if err != nil {
			return err
		}
		inst, err = q.SaveInstallation(ctx, store.Installation{
			CustomerID: v.ActingFor, ConfigurationID: c.ID, Mode: store.ModeTrial, State: store.InstallationTrialing,
			VersionID: ver.ID, LicenseKey: keyOf(prev, found), TrialEndsAt: &ends, UpdatedAt: now,
		})
		if err != nil {
			return err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, inst.ID))
		return nil
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.public.Bump(ctx)
	}
	return inst, err
}

// keyOf keeps an earlier installation's license key: the CRM may hold it.
func keyOf(prev store.Installation, found bool) string {
	if found {
		return prev.LicenseKey
	}
	return newLicenseKey()
}

// Rent starts a monthly rental. It gives nothing until its first invoice,
// issued now at the rent in force for the customer's plan, is paid: the
// rental waits in pending_payment and its period starts at the payment; the
// invoice is void and the rental expired when the payment window closes
// unpaid (SPEC §4: pay before access). A rent of 0.00 is free: the rental
// is active at once, with no invoice.
func (s *Service) Rent(ctx context.Context, v identity.Viewer, configurationID uuid.UUID, idempotencyKey string) (Charge, error) {
	if err := requireCustomer(v); err != nil {
		return Charge{}, err
	}
	rules, err := s.rulesNow(ctx)
	if err != nil {
		return Charge{}, err
	}
	input := map[string]any{"configurationId": configurationID}
	return s.charge(ctx, v, idempotencyKey, "rent", input, func(q *store.Queries, now time.Time) (Charge, error) {
		c, err := s.installable(ctx, q, v, configurationID)
		if err != nil {
			return Charge{}, err
		}
		if !c.SellsRent {
			return Charge{}, apperr.FailedPrecondition("this configuration is not for rent").WithCode("NOT_FOR_RENT")
		}
		prev, found, err := q.LockInstallation(ctx, v.ActingFor, c.ID)
		if err != nil {
			return Charge{}, err
		}
		if found && live(prev) {
			return Charge{}, apperr.Conflict("this configuration is already installed; convert the trial instead").WithCode("ALREADY_INSTALLED")
		}
		if found && prev.State == store.InstallationPendingPayment && prev.Mode == store.ModeRent {
			return Charge{}, paymentPending()
		}
		if err := dropPending(ctx, q, prev, found, now); err != nil {
			return Charge{}, err
		}
		ver, err := currentVersion(ctx, q, c.ID)
		if err != nil {
			return Charge{}, err
		}
		plan, err := customerPlan(ctx, q, v.ActingFor)
		if err != nil {
			return Charge{}, err
		}
		price, ok, err := q.PriceAt(ctx, c.ID, store.PriceRent, &plan, now)
		if err != nil {
			return Charge{}, err
		}
		if !ok {
			return Charge{}, apperr.FailedPrecondition("the configuration has no rent price for your tariff plan").WithCode("PRICE_MISSING")
		}
		inst := store.Installation{
			CustomerID: v.ActingFor, ConfigurationID: c.ID, Mode: store.ModeRent, State: store.InstallationPendingPayment, VersionID: ver.ID,
			LicenseKey: keyOf(prev, found), UpdatedAt: now,
		}
		if price.IsZero() {
			inst.State, inst.BillingAnchor, inst.CurrentPeriodStart = store.InstallationActive, &now, &now
			inst.CurrentPeriodEnd = ptrTime(clock.AddMonths(now, 1))
		}
		if inst, err = q.SaveInstallation(ctx, inst); err != nil {
			return Charge{}, err
		}
		if price.IsZero() {
			return Charge{InstallationID: &inst.ID}, nil
		}
		inv, _, err := q.CreateInvoice(ctx, store.Invoice{
			CustomerID: v.ActingFor, InstallationID: &inst.ID, ConfigurationID: &c.ID, TariffPlanID: &plan,
			PaidFor: store.PaidForRent, Amount: price, IssuedAt: now, ExpiresAt: ptrTime(now.Add(rules.PaymentWindow)),
		})
		if err != nil {
			return Charge{}, err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, inst.ID))
		audit.SetAmount(ctx, inv.Amount)
		return Charge{InstallationID: &inst.ID, InvoiceID: &inv.ID}, nil
	})
}

// paymentPending refuses a second request for what already waits for its
// first payment: one invoice to pay, never two.
func paymentPending() error {
	return apperr.Conflict("this configuration already waits for the payment of its invoice").WithCode("PAYMENT_PENDING")
}

// dropPending voids what an earlier rental or purchase still waiting for
// its first payment asked for, when the customer asks for something else
// (a trial, the other of rent and purchase): only the newest request can be
// paid.
func dropPending(ctx context.Context, q *store.Queries, prev store.Installation, found bool, now time.Time) error {
	if !found || prev.State != store.InstallationPendingPayment {
		return nil
	}
	return q.VoidOpenInvoices(ctx, prev.ID, now)
}

func customerPlan(ctx context.Context, q *store.Queries, customerID uuid.UUID) (uuid.UUID, error) {
	cust, err := q.CustomersByIDs(ctx, []uuid.UUID{customerID})
	if err != nil {
		return uuid.Nil, err
	}
	if len(cust) == 0 {
		return uuid.Nil, fmt.Errorf("customer %s not found", customerID)
	}
	return cust[0].TariffPlanID, nil
}

// ConvertTrial turns a running trial into a rental whose billing starts the
// day the trial ends (SPEC §4).
func (s *Service) ConvertTrial(ctx context.Context, v identity.Viewer, configurationID uuid.UUID, idempotencyKey string) (Charge, error) {
	if err := requireCustomer(v); err != nil {
		return Charge{}, err
	}
	input := map[string]any{"configurationId": configurationID}
	return s.charge(ctx, v, idempotencyKey, "convertTrial", input, func(q *store.Queries, now time.Time) (Charge, error) {
		c, err := s.installable(ctx, q, v, configurationID)
		if err != nil {
			return Charge{}, err
		}
		if !c.SellsRent {
			return Charge{}, apperr.FailedPrecondition("this configuration is not for rent").WithCode("NOT_FOR_RENT")
		}
		inst, found, err := q.LockInstallation(ctx, v.ActingFor, c.ID)
		if err != nil {
			return Charge{}, err
		}
		if !found || inst.Mode != store.ModeTrial || inst.State != store.InstallationTrialing || !now.Before(*inst.TrialEndsAt) {
			return Charge{}, apperr.FailedPrecondition("there is no running trial to convert").WithCode("NO_RUNNING_TRIAL")
		}
		start := *inst.TrialEndsAt
		inst.Mode, inst.BillingAnchor, inst.CurrentPeriodStart = store.ModeRent, &start, &start
		inst.CurrentPeriodEnd, inst.PeriodNumber, inst.UpdatedAt = ptrTime(clock.AddMonths(start, 1)), 0, now
		if inst, err = q.SaveInstallation(ctx, inst); err != nil {
			return Charge{}, err
		}
		// The rental's first invoice is issued when the trial ends: no
		// money moves now.
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, inst.ID))
		return Charge{InstallationID: &inst.ID}, nil
	})
}

// Buy sells a perpetual copy of the version current when it is paid, with
// a backup to download; it is never updated automatically (SPEC §4). It
// gives nothing until its invoice is paid: a new installation waits in
// pending_payment, while a running trial or rental goes on untouched until
// the payment replaces it (and voids what the rental still owed). The
// invoice is void when its payment window closes unpaid. A sale price of
// 0.00 is free: the purchase is active at once, with no invoice.
func (s *Service) Buy(ctx context.Context, v identity.Viewer, configurationID uuid.UUID, idempotencyKey string) (Charge, error) {
	if err := requireCustomer(v); err != nil {
		return Charge{}, err
	}
	rules, err := s.rulesNow(ctx)
	if err != nil {
		return Charge{}, err
	}
	input := map[string]any{"configurationId": configurationID}
	return s.charge(ctx, v, idempotencyKey, "buy", input, func(q *store.Queries, now time.Time) (Charge, error) {
		c, err := s.installable(ctx, q, v, configurationID)
		if err != nil {
			return Charge{}, err
		}
		if !c.SellsPurchase {
			return Charge{}, apperr.FailedPrecondition("this configuration is not for sale").WithCode("NOT_FOR_SALE")
		}
		price, ok, err := q.PriceAt(ctx, c.ID, store.PriceSale, nil, now)
		if err != nil {
			return Charge{}, err
		}
		if !ok {
			return Charge{}, apperr.FailedPrecondition("the configuration has no sale price").WithCode("PRICE_MISSING")
		}
		inst, found, err := q.LockInstallation(ctx, v.ActingFor, c.ID)
		if err != nil {
			return Charge{}, err
		}
		if found && inst.Mode == store.ModePurchase && live(inst) {
			return Charge{}, apperr.Conflict("this configuration is already bought").WithCode("ALREADY_INSTALLED")
		}
		if found {
			// A purchase waiting for payment, alone or over a running trial
			// or rental.
			pending, err := q.HasOpenFirstInvoice(ctx, inst.ID, store.PaidForPurchase)
			if err != nil {
				return Charge{}, err
			}
			if pending {
				return Charge{}, paymentPending()
			}
		}
		if err := dropPending(ctx, q, inst, found, now); err != nil {
			return Charge{}, err
		}
		if price.IsZero() {
			if inst, err = completePurchase(ctx, q, v.ActingFor, c.ID, inst, found, now); err != nil {
				return Charge{}, err
			}
			return Charge{InstallationID: &inst.ID}, nil
		}
		if !found || !live(inst) {
			ver, err := currentVersion(ctx, q, c.ID)
			if err != nil {
				return Charge{}, err
			}
			inst, err = q.SaveInstallation(ctx, store.Installation{
				CustomerID: v.ActingFor, ConfigurationID: c.ID, Mode: store.ModePurchase, State: store.InstallationPendingPayment,
				VersionID: ver.ID, LicenseKey: keyOf(inst, found), UpdatedAt: now,
			})
			if err != nil {
				return Charge{}, err
			}
		}
		inv, _, err := q.CreateInvoice(ctx, store.Invoice{
			CustomerID: v.ActingFor, InstallationID: &inst.ID, ConfigurationID: &c.ID, PaidFor: store.PaidForPurchase,
			Amount: price, IssuedAt: now, ExpiresAt: ptrTime(now.Add(rules.PaymentWindow)),
		})
		if err != nil {
			return Charge{}, err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, inst.ID))
		audit.SetAmount(ctx, inv.Amount)
		return Charge{InstallationID: &inst.ID, InvoiceID: &inv.ID}, nil
	})
}

// completePurchase makes the customer's installation of a configuration a
// paid purchase of the version current now, with its backup: a new one
// (found false), or its pending purchase, trial or rental prev, whose unpaid
// invoices are then not owed any more.
func completePurchase(ctx context.Context, q *store.Queries, customerID, configurationID uuid.UUID, prev store.Installation, found bool, now time.Time) (store.Installation, error) {
	ver, err := currentVersion(ctx, q, configurationID)
	if found && apperr.Is(err, apperr.KindFailedPrecondition) {
		// Paid for while the configuration had no approved version left:
		// the customer keeps the version it has.
		ver, err = store.Version{ID: prev.VersionID}, nil
	}
	if err != nil {
		return store.Installation{}, err
	}
	if found {
		if err := q.VoidOpenInvoices(ctx, prev.ID, now); err != nil {
			return store.Installation{}, err
		}
	}
	inst, err := q.SaveInstallation(ctx, store.Installation{
		CustomerID: customerID, ConfigurationID: configurationID, Mode: store.ModePurchase, State: store.InstallationActive,
		VersionID: ver.ID, LicenseKey: keyOf(prev, found), UpdatedAt: now,
	})
	if err != nil {
		return store.Installation{}, err
	}
	backup := fmt.Sprintf("backups/%s/%s.cmbackup", inst.ID, ver.ID)
	inst.BackupRef = &backup
	return q.SaveInstallation(ctx, inst)
}

// CancelRental stops a rental at the end of its paid period; it stays
// active until then (SPEC §4).
func (s *Service) CancelRental(ctx context.Context, v identity.Viewer, configurationID uuid.UUID) (store.Installation, error) {
	if err := requireCustomer(v); err != nil {
		return store.Installation{}, err
	}
	var inst store.Installation
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, found, err := q.LockInstallation(ctx, v.ActingFor, configurationID)
		if err != nil {
			return err
		}
		if !found || cur.Mode != store.ModeRent || !live(cur) {
			return apperr.FailedPrecondition("there is no running rental to cancel").WithCode("NO_RUNNING_RENTAL")
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, cur.ID))
		cur.CancelAtPeriodEnd, cur.UpdatedAt = true, s.clock.Now()
		inst, err = q.SaveInstallation(ctx, cur)
		return err
	}, store.Audit(audit.From(ctx)))
	return inst, err
}

// ChangePlan moves the customer's account to another tariff plan. Rentals
// are billed at the new plan's rent from their next period; periods already
// invoiced keep their price (SPEC §3).
func (s *Service) ChangePlan(ctx context.Context, v identity.Viewer, planCode string) (store.Customer, error) {
	if err := requireCustomer(v); err != nil {
		return store.Customer{}, err
	}
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeCustomer, v.ActingFor))
	plan, err := s.catalog.TariffPlanByCode(ctx, planCode)
	if err != nil {
		return store.Customer{}, err
	}
	if plan == nil {
		return store.Customer{}, apperr.Invalid("input.tariffPlan", "no tariff plan %q", planCode).WithCode("TARIFF_PLAN_UNKNOWN")
	}
	var c store.Customer
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		// Every running rental must have a rent on the new plan, or its
		// next period could not be billed.
		rentals, err := q.LiveRentals(ctx, v.ActingFor)
		if err != nil {
			return err
		}
		for _, r := range rentals {
			_, ok, err := q.PriceAt(ctx, r.ConfigurationID, store.PriceRent, &plan.ID, s.clock.Now())
			if err != nil {
				return err
			}
			if !ok {
				return apperr.FailedPrecondition("a rented configuration has no price on plan %s", plan.Code).WithCode("PRICE_MISSING")
			}
		}
		if err := q.SetCustomerPlan(ctx, v.ActingFor, plan.ID); err != nil {
			return err
		}
		cs, err := q.CustomersByIDs(ctx, []uuid.UUID{v.ActingFor})
		if err == nil && len(cs) == 1 {
			c = cs[0]
		}
		return err
	}, store.Audit(audit.From(ctx)))
	return c, err
}
