// Package model holds the GraphQL models. models_gen.go is generated; the
// types here are bound by hand so they can carry the keys that nested
// fields resolve through loaders, instead of eager-loaded children.
package model

import (
	"time"

	"github.com/google/uuid"

	"configmarket/internal/catalog"
	"configmarket/internal/commerce"
	"configmarket/internal/identity"
)

// Customer carries its plan's id; tariffPlan resolves through a loader.
type Customer struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Inn          *string   `json:"inn,omitempty"`
	CrmAccountID *string   `json:"crmAccountId,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	TariffPlanID uuid.UUID `json:"-"`
	RowID        uuid.UUID `json:"-"`
}

func (Customer) IsNode()         {}
func (c Customer) GetID() string { return c.ID }

// Viewer wraps the authenticated subject; its fields resolve on demand.
type Viewer struct {
	Role    Role            `json:"role"`
	Subject identity.Viewer `json:"-"`
}

// RoleGrant names the organisation by type and id; actingFor loads it.
type RoleGrant struct {
	Role             Role      `json:"role"`
	OrganizationName string    `json:"organizationName"`
	ActingForID      uuid.UUID `json:"-"`
}

// ApiToken names the organisation it acts for by id; actingFor loads it.
type ApiToken struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Role        Role       `json:"role"`
	ActingForID uuid.UUID  `json:"-"`
	Prefix      string     `json:"prefix"`
	CreatedAt   time.Time  `json:"createdAt"`
	ExpiresAt   time.Time  `json:"expiresAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt   *time.Time `json:"revokedAt,omitempty"`
}

// Configuration carries its row; nested and private fields resolve from it
// through loaders and the catalog's visibility rules.
type Configuration struct {
	ID          NodeID             `json:"id"`
	Slug        string             `json:"slug"`
	Title       string             `json:"title"`
	Summary     string             `json:"summary"`
	Description string             `json:"description"`
	Tags        []string           `json:"tags"`
	Screenshots []string           `json:"screenshots"`
	Visibility  Visibility         `json:"visibility"`
	SaleModes   []SaleMode         `json:"saleModes"`
	SupportMode SupportMode        `json:"supportMode"`
	TrialDays   int                `json:"trialDays"`
	State       ConfigurationState `json:"state"`
	Rating      *Rating            `json:"rating"`
	CreatedAt   time.Time          `json:"createdAt"`
	PublishedAt *time.Time         `json:"publishedAt,omitempty"`

	// Row is the configuration as the catalog returned it, for the
	// catalog's rules that nested and private fields go through.
	Row catalog.Configuration `json:"-"`
}

func (Configuration) IsNode()         {}
func (c Configuration) GetID() string { return c.ID.String() }

// Version carries its row for the configuration and private fields.
type Version struct {
	ID          NodeID       `json:"id"`
	Number      string       `json:"number"`
	Changelog   string       `json:"changelog"`
	State       VersionState `json:"state"`
	CreatedAt   time.Time    `json:"createdAt"`
	SubmittedAt *time.Time   `json:"submittedAt,omitempty"`
	DecidedAt   *time.Time   `json:"decidedAt,omitempty"`

	// Row is the version as the catalog returned it.
	Row catalog.Version `json:"-"`
}

func (Version) IsNode()         {}
func (v Version) GetID() string { return v.ID.String() }

// Review carries its configuration's id.
type Review struct {
	ID              string    `json:"id"`
	Rating          int       `json:"rating"`
	Body            string    `json:"body"`
	AuthorName      string    `json:"authorName"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
	ConfigurationID uuid.UUID `json:"-"`
}

func (Review) IsNode()         {}
func (r Review) GetID() string { return r.ID }

// PlanPrice holds its plan: a page lists hundreds of them, and the few
// plans are at hand, so no resolver runs per price.
type PlanPrice struct {
	Price      *Money      `json:"price"`
	TariffPlan *TariffPlan `json:"tariffPlan"`
}

// PriceChange carries its plan's id (none for the sale price).
type PriceChange struct {
	SaleMode     SaleMode   `json:"saleMode"`
	Price        *Money     `json:"price"`
	ValidFrom    time.Time  `json:"validFrom"`
	TariffPlanID *uuid.UUID `json:"-"`
}

// ModerationEvent carries its version's id.
type ModerationEvent struct {
	Action    string     `json:"action"`
	Reason    *string    `json:"reason,omitempty"`
	At        time.Time  `json:"at"`
	VersionID *uuid.UUID `json:"-"`
}

// Developer is a developer's public profile; it carries its row id for its
// configurations connection.
type Developer struct {
	ID        NodeID          `json:"id"`
	Slug      string          `json:"slug"`
	Name      string          `json:"name"`
	Bio       string          `json:"bio"`
	Website   *string         `json:"website,omitempty"`
	Status    DeveloperStatus `json:"status"`
	CreatedAt time.Time       `json:"createdAt"`
	RowID     uuid.UUID       `json:"-"`
}

func (Developer) IsNode()         {}
func (d Developer) GetID() string { return d.ID.String() }

// Installation carries its row; the license key and backup resolve only
// for those allowed to see them.
type Installation struct {
	ID                 string            `json:"id"`
	Mode               InstallationMode  `json:"mode"`
	State              InstallationState `json:"state"`
	AutoUpdate         bool              `json:"autoUpdate"`
	TrialEndsAt        *time.Time        `json:"trialEndsAt,omitempty"`
	CurrentPeriodStart *time.Time        `json:"currentPeriodStart,omitempty"`
	CurrentPeriodEnd   *time.Time        `json:"currentPeriodEnd,omitempty"`
	CancelAtPeriodEnd  bool              `json:"cancelAtPeriodEnd"`
	DataRetainedUntil  *time.Time        `json:"dataRetainedUntil,omitempty"`
	CreatedAt          time.Time         `json:"createdAt"`

	// Row is the installation as commerce returned it, for its rules on
	// who sees the license key and backup.
	Row commerce.Installation `json:"-"`
}

func (Installation) IsNode()         {}
func (i Installation) GetID() string { return i.ID }

// InstallationUpdate carries its versions' ids.
type InstallationUpdate struct {
	At            time.Time `json:"at"`
	FromVersionID uuid.UUID `json:"-"`
	ToVersionID   uuid.UUID `json:"-"`
}

// Invoice carries its installation's and configuration's ids.
type Invoice struct {
	ID              string       `json:"id"`
	PaidFor         PaidFor      `json:"paidFor"`
	Amount          *Money       `json:"amount"`
	PeriodStart     *time.Time   `json:"periodStart,omitempty"`
	PeriodEnd       *time.Time   `json:"periodEnd,omitempty"`
	State           InvoiceState `json:"state"`
	IssuedAt        time.Time    `json:"issuedAt"`
	PaidAt          *time.Time   `json:"paidAt,omitempty"`
	ExpiresAt       *time.Time   `json:"expiresAt,omitempty"`
	InstallationID  *uuid.UUID   `json:"-"`
	ConfigurationID *uuid.UUID   `json:"-"`
}

func (Invoice) IsNode()         {}
func (i Invoice) GetID() string { return i.ID }

// Payment carries its configuration's id.
type Payment struct {
	ID              string     `json:"id"`
	PaidFor         PaidFor    `json:"paidFor"`
	Amount          *Money     `json:"amount"`
	Provider        string     `json:"provider"`
	ReceivedAt      time.Time  `json:"receivedAt"`
	ConfigurationID *uuid.UUID `json:"-"`
}

func (Payment) IsNode()         {}
func (p Payment) GetID() string { return p.ID }

// UnappliedPayment carries the ids its invoices, payments and resolving
// admin load by.
type UnappliedPayment struct {
	ID                string                `json:"id"`
	Kind              ProviderEventKind     `json:"kind"`
	EventID           string                `json:"eventId"`
	ProviderPaymentID string                `json:"providerPaymentId"`
	ProviderRefundID  *string               `json:"providerRefundId,omitempty"`
	Amount            *Money                `json:"amount"`
	OccurredAt        time.Time             `json:"occurredAt"`
	Reason            UnappliedReason       `json:"reason"`
	ReasonText        string                `json:"reasonText"`
	Event             string                `json:"event"`
	ReceivedAt        time.Time             `json:"receivedAt"`
	State             UnappliedPaymentState `json:"state"`
	ResolvedAt        *time.Time            `json:"resolvedAt,omitempty"`
	Note              *string               `json:"note,omitempty"`
	InvoiceID         *uuid.UUID            `json:"-"`
	PaymentID         *uuid.UUID            `json:"-"`
	ResolvedByID      *uuid.UUID            `json:"-"`
	AppliedInvoiceID  *uuid.UUID            `json:"-"`
	AppliedPaymentID  *uuid.UUID            `json:"-"`
}

func (UnappliedPayment) IsNode()         {}
func (u UnappliedPayment) GetID() string { return u.ID }

// LicenseCheck carries the configuration's id of a valid key.
type LicenseCheck struct {
	Valid           bool              `json:"valid"`
	Mode            *InstallationMode `json:"mode,omitempty"`
	ValidUntil      *time.Time        `json:"validUntil,omitempty"`
	ConfigurationID *uuid.UUID        `json:"-"`
}

// Partner is a partner's profile; it carries its row id for its ledger.
type Partner struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Inn       *string       `json:"inn,omitempty"`
	Website   *string       `json:"website,omitempty"`
	Status    PartnerStatus `json:"status"`
	CreatedAt time.Time     `json:"createdAt"`
	RowID     uuid.UUID     `json:"-"`
}

func (Partner) IsNode()         {}
func (p Partner) GetID() string { return p.ID }

// LedgerEntry carries its configuration's id.
type LedgerEntry struct {
	Party           LedgerParty `json:"party"`
	Amount          *Money      `json:"amount"`
	Rate            *string     `json:"rate,omitempty"`
	PaidFor         *PaidFor    `json:"paidFor,omitempty"`
	Reversal        bool        `json:"reversal"`
	OccurredAt      time.Time   `json:"occurredAt"`
	ConfigurationID *uuid.UUID  `json:"-"`
}

// Pin carries its row id for its events.
type Pin struct {
	ID           string     `json:"id"`
	State        PinState   `json:"state"`
	PartnerName  string     `json:"partnerName"`
	RequestedAt  time.Time  `json:"requestedAt"`
	RequestedVia *string    `json:"requestedVia,omitempty"`
	StartsAt     *time.Time `json:"startsAt,omitempty"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	DecidedAt    *time.Time `json:"decidedAt,omitempty"`
	Reason       *string    `json:"reason,omitempty"`
	RowID        uuid.UUID  `json:"-"`
}

func (Pin) IsNode()         {}
func (p Pin) GetID() string { return p.ID }

// Activity carries the ids its fields load at delivery time.
type Activity struct {
	Kind            string     `json:"kind"`
	InstallationID  *uuid.UUID `json:"-"`
	VersionID       *uuid.UUID `json:"-"`
	ConfigurationID *uuid.UUID `json:"-"`
}
