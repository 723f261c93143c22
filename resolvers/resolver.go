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
)

// Resolver is the root resolver; it holds the domain services.
type Resolver struct {
	Accounts      *account.Service
	Catalog       *catalog.Service
	Commerce      *commerce.Service
	Ledger        *earnings.Ledger
	RateBook      *earnings.Rates
	PayoutService *earnings.Payouts
	PinService    *pins.Service
	Statuses      *earnings.Statuses
	// PartnerStatuses sets partners' statuses (admins) and shows their history.
	PartnerStatuses *earnings.PartnerStatuses
	Hub             *live.Hub
	// AuditLogService reads the audit log (admins).
	AuditLogService *auditlog.Service
	// Packages holds the configurations' packages and buyers' backups.
	Packages *packages.Service
}
