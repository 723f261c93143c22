package commerce

import (
	"context"
	"math"

	"github.com/google/uuid"

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

// mayRead decides who reads an installation or payment of customer for a
// configuration of developer.
func mayRead(v identity.Viewer, customer, developer uuid.UUID) bool {
	// SECURITY: the customer it belongs to, the developer of the
	// configuration (SPEC §4: every installation and payment of its
	// configurations), and admins; nobody else, through any path.
	return v.IsAdmin() || v.IsCustomer(customer) || v.IsDeveloper(developer)
}

// CanSeeLicenseKey reports whether v may see an installation's license key
// (and backup): the key is the customer's secret, not the developer's.
func CanSeeLicenseKey(v identity.Viewer, i store.Installation) bool {
	// SECURITY: the owning customer and admins only.
	return v.IsAdmin() || v.IsCustomer(i.CustomerID)
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
		if mayRead(v, r.CustomerID, devs[r.ConfigurationID]) {
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
		// SECURITY: invoices are the customer's and the platform's business.
		if v.IsAdmin() || v.IsCustomer(r.CustomerID) {
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
		if mayRead(v, r.CustomerID, dev) {
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
// narrow it. Installations needs a customer or a developer.
type InstallationFilter struct {
	CustomerID      *uuid.UUID
	DeveloperID     *uuid.UUID
	ConfigurationID *uuid.UUID
	State           *InstallationState
	Mode            *InstallationMode
}

func (f InstallationFilter) query() store.InstallationFilter {
	return store.InstallationFilter{
		CustomerID: f.CustomerID, DeveloperID: f.DeveloperID, ConfigurationID: f.ConfigurationID, State: f.State, Mode: f.Mode,
	}
}

// Installations lists installations by filter, which must name a customer
// or a developer that v may read for.
func (s *Service) Installations(ctx context.Context, v identity.Viewer, f InstallationFilter, first *int, after *string) (Page[store.Installation], error) {
	// SECURITY: a customer lists its own installations, a developer those
	// of its configurations, admins any.
	allowed := v.IsAdmin() || (f.CustomerID != nil && v.IsCustomer(*f.CustomerID)) || (f.DeveloperID != nil && v.IsDeveloper(*f.DeveloperID))
	if !allowed {
		return Page[store.Installation]{}, nil
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return Page[store.Installation]{}, err
	}
	rows, err := s.store.InstallationsPage(ctx, f.query(), key, limit+1)
	return newestFirst(rows, limit, func(i store.Installation) store.TimeKey { return store.TimeKey{At: i.CreatedAt, ID: i.ID} }), err
}

// Invoices lists a customer's invoices, newest first.
func (s *Service) Invoices(ctx context.Context, v identity.Viewer, customerID uuid.UUID, state *store.InvoiceState, first *int, after *string) (Page[store.Invoice], error) {
	// SECURITY: the customer's own invoices, and admins.
	if !v.IsAdmin() && !v.IsCustomer(customerID) {
		return Page[store.Invoice]{}, nil
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return Page[store.Invoice]{}, err
	}
	rows, err := s.store.InvoicesPage(ctx, customerID, state, key, limit+1)
	return newestFirst(rows, limit, func(i store.Invoice) store.TimeKey { return store.TimeKey{At: i.IssuedAt, ID: i.ID} }), err
}

// PaymentFilter narrows a list of payments; a nil field does not narrow
// it. Payments needs a customer or a developer.
type PaymentFilter struct {
	CustomerID      *uuid.UUID
	DeveloperID     *uuid.UUID
	ConfigurationID *uuid.UUID
}

func (f PaymentFilter) query() store.PaymentFilter {
	return store.PaymentFilter{CustomerID: f.CustomerID, DeveloperID: f.DeveloperID, ConfigurationID: f.ConfigurationID}
}

// Payments lists payments by filter, which must name a customer or a
// developer that v may read for.
func (s *Service) Payments(ctx context.Context, v identity.Viewer, f PaymentFilter, first *int, after *string) (Page[store.Payment], error) {
	// SECURITY: a customer lists its own payments, a developer those for
	// its configurations, admins any.
	allowed := v.IsAdmin() || (f.CustomerID != nil && v.IsCustomer(*f.CustomerID)) || (f.DeveloperID != nil && v.IsDeveloper(*f.DeveloperID))
	if !allowed {
		return Page[store.Payment]{}, nil
	}
	limit, key, err := relay.TimePage(first, after)
	if err != nil {
		return Page[store.Payment]{}, err
	}
	rows, err := s.store.PaymentsPage(ctx, f.query(), key, limit+1)
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
	// SECURITY: exactly who reads the installation (mayRead, through
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
