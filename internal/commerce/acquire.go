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
			CustomerID: v.ActingFor, ConfigurationID: c.ID, Mode: "trial", State: "trialing",
			VersionID: ver.ID, LicenseKey: keyOf(prev, found), TrialEndsAt: &ends, UpdatedAt: now,
		})
		if err != nil {
			return err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, inst.ID))
		return nil
	})
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

// Rent starts a monthly rental now; the first month is invoiced at once at
// the rent in force for the customer's plan (SPEC §4).
func (s *Service) Rent(ctx context.Context, v identity.Viewer, configurationID uuid.UUID, idempotencyKey string) (Charge, error) {
	if err := requireCustomer(v); err != nil {
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
		ver, err := currentVersion(ctx, q, c.ID)
		if err != nil {
			return Charge{}, err
		}
		inst, err := q.SaveInstallation(ctx, store.Installation{
			CustomerID: v.ActingFor, ConfigurationID: c.ID, Mode: "rent", State: "active", VersionID: ver.ID,
			LicenseKey: keyOf(prev, found), BillingAnchor: &now, CurrentPeriodStart: &now,
			CurrentPeriodEnd: ptrTime(clock.AddMonths(now, 1)), UpdatedAt: now,
		})
		if err != nil {
			return Charge{}, err
		}
		inv, err := s.invoicePeriod(ctx, q, inst)
		if err != nil {
			return Charge{}, err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, inst.ID))
		audit.SetAmount(ctx, inv.Amount)
		return Charge{InstallationID: &inst.ID, InvoiceID: &inv.ID}, nil
	})
}

// invoicePeriod issues the invoice of a rental's current period now.
func (s *Service) invoicePeriod(ctx context.Context, q *store.Queries, inst store.Installation) (store.Invoice, error) {
	cust, err := q.CustomersByIDs(ctx, []uuid.UUID{inst.CustomerID})
	if err != nil || len(cust) == 0 {
		return store.Invoice{}, fmt.Errorf("customer of installation %s: %w", inst.ID, err)
	}
	plan := cust[0].TariffPlanID
	price, ok, err := q.PriceAt(ctx, inst.ConfigurationID, "rent", &plan, *inst.CurrentPeriodStart)
	if err != nil {
		return store.Invoice{}, err
	}
	if !ok {
		return store.Invoice{}, apperr.FailedPrecondition("the configuration has no rent price for your tariff plan").WithCode("PRICE_MISSING")
	}
	inv, _, err := q.CreateInvoice(ctx, store.Invoice{
		CustomerID: inst.CustomerID, InstallationID: &inst.ID, ConfigurationID: &inst.ConfigurationID,
		TariffPlanID: &plan, PaidFor: "rent", Amount: price,
		PeriodStart: inst.CurrentPeriodStart, PeriodEnd: inst.CurrentPeriodEnd, IssuedAt: *inst.CurrentPeriodStart,
	})
	return inv, err
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
		if !found || inst.Mode != "trial" || inst.State != "trialing" || !now.Before(*inst.TrialEndsAt) {
			return Charge{}, apperr.FailedPrecondition("there is no running trial to convert").WithCode("NO_RUNNING_TRIAL")
		}
		start := *inst.TrialEndsAt
		inst.Mode, inst.BillingAnchor, inst.CurrentPeriodStart = "rent", &start, &start
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

// Buy sells a perpetual copy of the version current now, with a backup to
// download; it is never updated automatically (SPEC §4). Buying during a
// trial or a rental replaces it.
func (s *Service) Buy(ctx context.Context, v identity.Viewer, configurationID uuid.UUID, idempotencyKey string) (Charge, error) {
	if err := requireCustomer(v); err != nil {
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
		price, ok, err := q.PriceAt(ctx, c.ID, "sale", nil, now)
		if err != nil {
			return Charge{}, err
		}
		if !ok {
			return Charge{}, apperr.FailedPrecondition("the configuration has no sale price").WithCode("PRICE_MISSING")
		}
		prev, found, err := q.LockInstallation(ctx, v.ActingFor, c.ID)
		if err != nil {
			return Charge{}, err
		}
		if found && prev.Mode == "purchase" && live(prev) {
			return Charge{}, apperr.Conflict("this configuration is already bought").WithCode("ALREADY_INSTALLED")
		}
		if found {
			// The purchase replaces a trial or rental: what the rental
			// still owed is not owed any more.
			if err := q.VoidOpenInvoices(ctx, prev.ID, now); err != nil {
				return Charge{}, err
			}
		}
		ver, err := currentVersion(ctx, q, c.ID)
		if err != nil {
			return Charge{}, err
		}
		inst, err := q.SaveInstallation(ctx, store.Installation{
			CustomerID: v.ActingFor, ConfigurationID: c.ID, Mode: "purchase", State: "active", VersionID: ver.ID,
			LicenseKey: keyOf(prev, found), UpdatedAt: now,
		})
		if err != nil {
			return Charge{}, err
		}
		backup := fmt.Sprintf("backups/%s/%s.cmbackup", inst.ID, ver.ID)
		inst.BackupRef = &backup
		if inst, err = q.SaveInstallation(ctx, inst); err != nil {
			return Charge{}, err
		}
		inv, _, err := q.CreateInvoice(ctx, store.Invoice{
			CustomerID: v.ActingFor, InstallationID: &inst.ID, ConfigurationID: &c.ID, PaidFor: "purchase",
			Amount: price, IssuedAt: now,
		})
		if err != nil {
			return Charge{}, err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, inst.ID))
		audit.SetAmount(ctx, inv.Amount)
		return Charge{InstallationID: &inst.ID, InvoiceID: &inv.ID}, nil
	})
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
		if !found || cur.Mode != "rent" || !live(cur) {
			return apperr.FailedPrecondition("there is no running rental to cancel").WithCode("NO_RUNNING_RENTAL")
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeInstallation, cur.ID))
		cur.CancelAtPeriodEnd, cur.UpdatedAt = true, s.clock.Now()
		inst, err = q.SaveInstallation(ctx, cur)
		return err
	})
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
			_, ok, err := q.PriceAt(ctx, r.ConfigurationID, "rent", &plan.ID, s.clock.Now())
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
	})
	return c, err
}
