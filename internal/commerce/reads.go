package commerce

import (
	"context"
	"math"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// developersOf maps configuration ids to their developers.
func (s *Service) developersOf(ctx context.Context, configurationIDs []uuid.UUID) (map[uuid.UUID]uuid.UUID, error) {
	cs, err := s.store.ConfigurationsByIDs(ctx, configurationIDs, store.Scope{All: true})
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]uuid.UUID, len(cs))
	for _, c := range cs {
		out[c.ID] = c.DeveloperID
	}
	return out, nil
}

// MayReadSale decides who reads an installation or a payment: what
// customer got, or paid, for a configuration of developer.
func MayReadSale(v identity.Viewer, customer, developer uuid.UUID) bool {
	// SECURITY: the customer it belongs to, the developer of the
	// configuration (SPEC §4: every installation and payment of its
	// configurations), and admins; nobody else, through any path.
	return v.IsAdmin() || v.IsCustomer(customer) || v.IsDeveloper(developer)
}

// MayReadInvoice decides who reads a customer's invoices.
func MayReadInvoice(v identity.Viewer, customer uuid.UUID) bool {
	// SECURITY: invoices are the customer's and the platform's business,
	// not the developer's (it sees payments, once made).
	return v.IsAdmin() || v.IsCustomer(customer)
}

// MayReadLicenseKey reports whether v may see an installation's license key
// (and backup): the key is the customer's secret, not the developer's.
func MayReadLicenseKey(v identity.Viewer, customer uuid.UUID) bool {
	// SECURITY: the owning customer and admins only: whoever holds the key
	// runs the configuration (SPEC §4, how copying is prevented).
	return v.IsAdmin() || v.IsCustomer(customer)
}

// CustomerSecret answers value, a secret of an installation of customer
// that the caller already holds (its license key, its backup), when v may
// read it (MayReadLicenseKey); anyone else gets the zero value and
// apperr.Hidden.
func CustomerSecret[T any](v identity.Viewer, customer uuid.UUID, value T) (T, error) {
	if !MayReadLicenseKey(v, customer) {
		var zero T
		return zero, apperr.Hidden(v, "only the customer and admins read an installation's secrets")
	}
	return value, nil
}

// hiddenSales is the answer to a stranger asking for a customer's or a
// developer's installations, invoices or payments.
func hiddenSales(v identity.Viewer) error {
	return apperr.Hidden(v, "only the customer, the configuration's developer and admins read this")
}

// mayReadFor is MayReadSale for a list filter: only the customer and the
// developer the filter names count.
func mayReadFor(v identity.Viewer, customer, developer *uuid.UUID) bool {
	// SECURITY: a customer lists its own, a developer those of its
	// configurations, admins any; an id the filter does not name grants
	// nothing.
	return v.IsAdmin() || (customer != nil && v.IsCustomer(*customer)) || (developer != nil && v.IsDeveloper(*developer))
}

// TrialDaysLeft is how many days of i's trial remain at the service's now,
// a started day counting as a whole one; false when i is not trialing.
func (s *Service) TrialDaysLeft(i Installation) (int, bool) {
	if i.State != store.InstallationTrialing || i.TrialEndsAt == nil {
		return 0, false
	}
	return int(math.Ceil(i.TrialEndsAt.Sub(s.Now()).Hours() / 24)), true
}

// InstallationsByIDs returns the installations among ids that v may read.
func (s *Service) InstallationsByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Installation, error) {
	if v.Anonymous() {
		return nil, nil
	}
	rows, err := s.store.InstallationsByIDs(ctx, ids)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	confIDs := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		confIDs[i] = r.ConfigurationID
	}
	devs, err := s.developersOf(ctx, confIDs)
	if err != nil {
		return nil, err
	}
	var out []store.Installation
	for _, r := range rows {
		if MayReadSale(v, r.CustomerID, devs[r.ConfigurationID]) {
			out = append(out, r)
		}
	}
	return out, nil
}

// InvoicesByIDs returns the invoices among ids that v may read.
func (s *Service) InvoicesByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Invoice, error) {
	if v.Anonymous() {
		return nil, nil
	}
	rows, err := s.store.InvoicesByIDs(ctx, ids)
	var out []store.Invoice
	for _, r := range rows {
		if MayReadInvoice(v, r.CustomerID) {
			out = append(out, r)
		}
	}
	return out, err
}

// PaymentsByIDs returns the payments among ids that v may read.
func (s *Service) PaymentsByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Payment, error) {
	if v.Anonymous() {
		return nil, nil
	}
	rows, err := s.store.PaymentsByIDs(ctx, ids)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	var confIDs []uuid.UUID
	for _, r := range rows {
		if r.ConfigurationID != nil {
			confIDs = append(confIDs, *r.ConfigurationID)
		}
	}
	devs, err := s.developersOf(ctx, confIDs)
	if err != nil {
		return nil, err
	}
	var out []store.Payment
	for _, r := range rows {
		dev := uuid.Nil
		if r.ConfigurationID != nil {
			dev = devs[*r.ConfigurationID]
		}
		if MayReadSale(v, r.CustomerID, dev) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Page is a page of rows with their cursors.
type Page[T any] = relay.Connection[T]

// newestFirst cuts a page of rows keyed by (time, id).
func newestFirst[T any](rows []T, limit int, key func(T) store.TimeKey) Page[T] {
	return relay.Cut(rows, limit, func(r T) string { k := key(r); return relay.EncodeCursor(k.At, k.ID) })
}

// InstallationFilter narrows a list of installations; a nil field does not
// narrow it. Installations needs a customer or a developer. It is the
// store's query under the domain's name.
type InstallationFilter store.InstallationFilter

// Installations lists installations by filter, which must name a customer
// or a developer that v may read for; anyone else gets apperr.Hidden.
func (s *Service) Installations(ctx context.Context, v identity.Viewer, f InstallationFilter, first *int, after *string) (Page[store.Installation], error) {
	if !mayReadFor(v, f.CustomerID, f.DeveloperID) {
		return Page[store.Installation]{}, hiddenSales(v)
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return Page[store.Installation]{}, err
	}
	rows, err := s.store.InstallationsPage(ctx, store.InstallationFilter(f), key, limit+1)
	return newestFirst(rows, limit, func(i store.Installation) store.TimeKey { return store.TimeKey{At: i.CreatedAt, ID: i.ID} }), err
}

// Invoices lists a customer's invoices, newest first; anyone but the
// customer and admins gets apperr.Hidden.
func (s *Service) Invoices(ctx context.Context, v identity.Viewer, customerID uuid.UUID, state *store.InvoiceState, first *int, after *string) (Page[store.Invoice], error) {
	if !MayReadInvoice(v, customerID) {
		return Page[store.Invoice]{}, hiddenSales(v)
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return Page[store.Invoice]{}, err
	}
	rows, err := s.store.InvoicesPage(ctx, customerID, state, key, limit+1)
	return newestFirst(rows, limit, func(i store.Invoice) store.TimeKey { return store.TimeKey{At: i.IssuedAt, ID: i.ID} }), err
}

// InvoiceQueueFilter narrows the admins' list of every customer's
// invoices; a nil field does not narrow it.
type InvoiceQueueFilter struct {
	States []store.InvoiceState
	// Overdue: open past the due date (true), or not (false): an
	// acquisition's first invoice is due when it expires, any other
	// PastDueAfter after its period start, when dunning begins.
	Overdue *bool
}

var invoiceStates = map[store.InvoiceState]bool{store.InvoiceOpen: true, store.InvoicePaid: true, store.InvoiceVoid: true}

// InvoiceQueue lists every customer's invoices by filter, newest first:
// the admins' view of what is owed.
func (s *Service) InvoiceQueue(ctx context.Context, v identity.Viewer, f InvoiceQueueFilter, args relay.PageArgs) (Page[store.Invoice], error) {
	// SECURITY: admins only: it lists every customer's invoices; a
	// customer lists its own through Invoices (MayReadInvoice).
	if !v.IsAdmin() {
		return Page[store.Invoice]{}, apperr.Hidden(v, "only admins read every customer's invoices")
	}
	for _, st := range f.States {
		if !invoiceStates[st] {
			return Page[store.Invoice]{}, apperr.Invalid("states", "unknown invoice state %q", st)
		}
	}
	q := store.InvoiceQueueFilter{States: f.States, Overdue: f.Overdue, Now: s.clock.Now(), Grace: s.rules.PastDueAfter}
	if len(q.States) == 0 {
		q.States = nil
	}
	limit, key, err := relay.TimePage(args.First, args.After)
	if err != nil {
		return Page[store.Invoice]{}, err
	}
	rows, err := s.store.InvoiceQueue(ctx, q, key, limit+1)
	if err != nil {
		return Page[store.Invoice]{}, err
	}
	page := newestFirst(rows, limit, func(i store.Invoice) store.TimeKey { return store.TimeKey{At: i.IssuedAt, ID: i.ID} })
	return page.Counted(args, func() (int, error) { return s.store.InvoiceQueueCount(ctx, q) })
}

// PaymentFilter narrows a list of payments; a nil field does not narrow
// it. Payments needs a customer or a developer. It is the store's query
// under the domain's name.
type PaymentFilter store.PaymentFilter

// Payments lists payments by filter, which must name a customer or a
// developer that v may read for; anyone else gets apperr.Hidden.
func (s *Service) Payments(ctx context.Context, v identity.Viewer, f PaymentFilter, first *int, after *string) (Page[store.Payment], error) {
	if !mayReadFor(v, f.CustomerID, f.DeveloperID) {
		return Page[store.Payment]{}, hiddenSales(v)
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return Page[store.Payment]{}, err
	}
	rows, err := s.store.PaymentsPage(ctx, store.PaymentFilter(f), key, limit+1)
	return newestFirst(rows, limit, func(p store.Payment) store.TimeKey { return store.TimeKey{At: p.ReceivedAt, ID: p.ID} }), err
}

// Updates lists installations' automatic updates for installations the
// caller already read.
func (s *Service) Updates(ctx context.Context, installationIDs []uuid.UUID) ([]store.InstallationUpdate, error) {
	return s.store.InstallationUpdates(ctx, installationIDs)
}

// PackageDownloads is how many times the CRM fetched each installation's
// package, for the installations among ids that v reads (0 for one never
// fetched; absent for one v may not read).
func (s *Service) PackageDownloads(ctx context.Context, v identity.Viewer, ids []uuid.UUID) (map[uuid.UUID]int64, error) {
	// SECURITY: exactly who reads the installation (MayReadSale, through
	// InstallationsByIDs).
	visible, err := s.InstallationsByIDs(ctx, v, ids)
	if err != nil || len(visible) == 0 {
		return nil, err
	}
	readable := make([]uuid.UUID, len(visible))
	for i, inst := range visible {
		readable[i] = inst.ID
	}
	counts, err := s.store.PackageDownloads(ctx, readable)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]int64, len(readable))
	for _, id := range readable {
		out[id] = counts[id]
	}
	return out, nil
}
