// Package model holds the GraphQL models. models_gen.go is generated; the
// types here are bound by hand so they can carry the keys that nested
// fields resolve through loaders, instead of eager-loaded children.
package model

import (
	"time"

	"github.com/google/uuid"

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
