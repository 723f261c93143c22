// Package identity says who is making a request: the viewer, the role it
// acts in and the organisation it acts for. Every domain package reads the
// viewer from here to make its authorization decisions.
package identity

import (
	"context"
	"net/netip"
	"time"

	"github.com/google/uuid"
)

// Role is what a subject acts as in one session (SPEC §1).
type Role string

const (
	RoleCustomer  Role = "customer"
	RoleDeveloper Role = "developer"
	RolePartner   Role = "partner"
	RoleAdmin     Role = "admin"
	// RoleSystem is never a session's role: it names the platform as the
	// actor of an audit row (a job, the payment provider's webhook).
	RoleSystem Role = "system"
)

// Valid reports whether r is one of the four roles a user may hold
// (RoleSystem is not one).
func (r Role) Valid() bool {
	switch r {
	case RoleCustomer, RoleDeveloper, RolePartner, RoleAdmin:
		return true
	}
	return false
}

// ActsForOrganisation reports whether the role names a customer, developer
// or partner; admin acts for the platform itself.
func (r Role) ActsForOrganisation() bool { return r.Valid() && r != RoleAdmin }

// Viewer is an authenticated subject, already checked against the roles it
// really holds. The zero Viewer is anonymous.
type Viewer struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
	Role      Role
	// ActingFor is the customer, developer or partner id; uuid.Nil for admin.
	ActingFor uuid.UUID
	// ExpiresAt is when the access token ends; long-lived connections
	// (WebSockets) close then.
	ExpiresAt time.Time
	// APITokenID is the API token the request was made with; uuid.Nil for
	// a session's access token (SessionID is then set instead).
	APITokenID uuid.UUID
}

// ByAPIToken reports whether the viewer acts through an API token rather
// than a logged-in session.
func (v Viewer) ByAPIToken() bool { return !v.Anonymous() && v.APITokenID != uuid.Nil }

// Anonymous reports whether no one is logged in.
func (v Viewer) Anonymous() bool { return v.UserID == uuid.Nil }

func (v Viewer) IsAdmin() bool { return !v.Anonymous() && v.Role == RoleAdmin }

// IsCustomer reports whether the viewer acts for customer id.
func (v Viewer) IsCustomer(id uuid.UUID) bool {
	return !v.Anonymous() && v.Role == RoleCustomer && v.ActingFor == id
}

// IsDeveloper reports whether the viewer acts for developer id.
func (v Viewer) IsDeveloper(id uuid.UUID) bool {
	return !v.Anonymous() && v.Role == RoleDeveloper && v.ActingFor == id
}

// IsPartner reports whether the viewer acts for partner id.
func (v Viewer) IsPartner(id uuid.UUID) bool {
	return !v.Anonymous() && v.Role == RolePartner && v.ActingFor == id
}

type viewerKey struct{}

// WithViewer attaches an authenticated viewer to ctx.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer, anonymous if none was attached.
func FromContext(ctx context.Context) Viewer {
	v, _ := ctx.Value(viewerKey{}).(Viewer)
	return v
}

// Origin is where a request came from, recorded with sessions and audit rows.
type Origin struct {
	IP        netip.Addr
	UserAgent string
	RequestID string
}

type originKey struct{}

// WithOrigin attaches the request's origin to ctx.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the request's origin, zero if unknown.
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

type systemKey struct{}

// AsSystem marks ctx as the platform acting on its own behalf: a job, the
// payment provider's signed webhook, or an aggregate across parties that a
// domain check has already allowed. Row-level security on money data lets
// such a context see every party's rows.
func AsSystem(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemKey{}, true)
}

// IsSystem reports whether ctx acts as the platform itself.
func IsSystem(ctx context.Context) bool {
	sys, _ := ctx.Value(systemKey{}).(bool)
	return sys
}
