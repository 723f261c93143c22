// Package resolvers holds the thin GraphQL resolvers: each reads the viewer,
// calls one domain method or loader, and maps the result to the model. It
// also holds the one error presenter.
package resolvers

import (
	"configmarket/internal/account"
	"configmarket/internal/auditlog"
	"configmarket/internal/catalog"
	"configmarket/internal/commerce"
	"configmarket/internal/earnings"
	"configmarket/internal/live"
	"configmarket/internal/packages"
	"configmarket/internal/pins"
	"configmarket/internal/settings"
)

// Resolver is the root resolver; it holds the domain services. Each field
// is named after the service it holds, by its qualified name without the
// dot (account.Service is AccountService, earnings.Ledger EarningsLedger):
// the resolver types embed *Resolver and have methods named after GraphQL
// fields (Payouts, Pins, AuditLog, Rates), which a shorter field name
// would collide with.
type Resolver struct {
	AccountService  *account.Service
	CatalogService  *catalog.Service
	CommerceService *commerce.Service
	EarningsLedger  *earnings.Ledger
	EarningsRates   *earnings.Rates
	EarningsPayouts *earnings.Payouts
	PinsService     *pins.Service
	// EarningsStatuses are developers' statuses.
	EarningsStatuses *earnings.Statuses
	// EarningsPartnerStatuses set partners' statuses (admins) and show
	// their history.
	EarningsPartnerStatuses *earnings.PartnerStatuses
	LiveHub                 *live.Hub
	// AuditLogService reads the audit log (admins).
	AuditLogService *auditlog.Service
	// PackagesService holds the configurations' packages and buyers'
	// backups.
	PackagesService *packages.Service
	// SettingsService holds the business rules' numbers (admins).
	SettingsService *settings.Service
}
