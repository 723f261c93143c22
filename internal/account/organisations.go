package account

import (
	"context"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// CustomersByIDs returns the customers among ids that v may see; the others
// are left out as if they did not exist.
func (s *Service) CustomersByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Customer, error) {
	ids = visible(v, ids, identity.RoleCustomer)
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.CustomersByIDs(ctx, ids)
}

// PartnersByIDs returns the partners among ids that v may see.
func (s *Service) PartnersByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.Partner, error) {
	ids = visible(v, ids, identity.RolePartner)
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.PartnersByIDs(ctx, ids)
}

// MayReadOrganisation decides who reads the private record of the customer
// or partner id (role says which).
func MayReadOrganisation(v identity.Viewer, role identity.Role, id uuid.UUID) bool {
	// SECURITY: admins see every organisation (SPEC §1); otherwise a
	// customer's or partner's private record is seen only by someone acting
	// for that very organisation. Later issues widen this deliberately (a
	// developer sees its customers' installations, a customer sees the
	// partner that pinned it) in their own checks.
	return v.IsAdmin() || (!v.Anonymous() && v.Role == role && v.ActingFor == id)
}

// visible filters ids before any row is read, so a hidden organisation costs
// no query and cannot leak through timing or errors.
func visible(v identity.Viewer, ids []uuid.UUID, role identity.Role) []uuid.UUID {
	var out []uuid.UUID
	for _, id := range ids {
		if MayReadOrganisation(v, role, id) {
			out = append(out, id)
		}
	}
	return out
}

// MayReadUser decides who reads a user's e-mail, name and phone.
func MayReadUser(v identity.Viewer, userID uuid.UUID) bool {
	// SECURITY: they are personal data: only the user itself and admins.
	return v.IsAdmin() || (!v.Anonymous() && v.UserID == userID)
}

// UsersByIDs returns the users among ids that v may see.
func (s *Service) UsersByIDs(ctx context.Context, v identity.Viewer, ids []uuid.UUID) ([]store.User, error) {
	var allowed []uuid.UUID
	for _, id := range ids {
		if MayReadUser(v, id) {
			allowed = append(allowed, id)
		}
	}
	if len(allowed) == 0 {
		return nil, nil
	}
	return s.store.UsersByIDs(ctx, allowed)
}

// SearchArgs are the arguments of the admins' searches: a search term
// (nil: everyone) and the page.
type SearchArgs struct {
	Search *string
	relay.PageArgs
}

// mayListEveryone decides who lists and searches every customer, partner
// and user.
func mayListEveryone(v identity.Viewer) error {
	// SECURITY: admins only (SPEC §1): the lists show every organisation's
	// private record and every user's personal data, and a search by
	// e-mail, INN or CRM account id would tell a stranger who is a client.
	if !v.IsAdmin() {
		return apperr.Hidden(v, "only admins list and search accounts")
	}
	return nil
}

// byName pages rows in a by-name order after checking the viewer and the
// search term: page reads limit+1 rows matching a store.Contains pattern,
// count counts them all.
func byName[T any](v identity.Viewer, args SearchArgs, key func(T) relay.NameKey,
	page func(pattern *string, after *relay.NameKey, limit int) ([]T, error),
	count func(pattern *string) (int, error)) (relay.Connection[T], error) {
	if err := mayListEveryone(v); err != nil {
		return relay.Connection[T]{}, err
	}
	term, err := relay.SearchTerm(args.Search)
	if err != nil {
		return relay.Connection[T]{}, err
	}
	limit, after, err := relay.NamePage(args.First, args.After)
	if err != nil {
		return relay.Connection[T]{}, err
	}
	pattern := store.Contains(term)
	rows, err := page(pattern, after, limit+1)
	if err != nil {
		return relay.Connection[T]{}, err
	}
	c := relay.Cut(rows, limit, func(r T) string { k := key(r); return relay.EncodeCursor(k.Name, k.ID) })
	return c.Counted(args.PageArgs, func() (int, error) { return count(pattern) })
}

// Customers lists every customer by name, or those matching a search (any
// part of the name, INN, CRM account id, or a user's e-mail or name);
// admins only.
func (s *Service) Customers(ctx context.Context, v identity.Viewer, args SearchArgs) (relay.Connection[store.Customer], error) {
	return byName(v, args, func(c store.Customer) relay.NameKey { return relay.NameKey{Name: c.Name, ID: c.ID} },
		func(p *string, after *relay.NameKey, limit int) ([]store.Customer, error) {
			return s.store.CustomersPage(ctx, p, after, limit)
		},
		func(p *string) (int, error) { return s.store.CustomersCount(ctx, p) })
}

// Partners lists every partner by name, or those matching a search (any
// part of the name, INN, or a user's e-mail or name); admins only.
func (s *Service) Partners(ctx context.Context, v identity.Viewer, args SearchArgs) (relay.Connection[store.Partner], error) {
	return byName(v, args, func(p store.Partner) relay.NameKey { return relay.NameKey{Name: p.Name, ID: p.ID} },
		func(p *string, after *relay.NameKey, limit int) ([]store.Partner, error) {
			return s.store.PartnersPage(ctx, p, after, limit)
		},
		func(p *string) (int, error) { return s.store.PartnersCount(ctx, p) })
}

// Users lists every user by name, or those matching a search (any part of
// the e-mail or name); admins only.
func (s *Service) Users(ctx context.Context, v identity.Viewer, args SearchArgs) (relay.Connection[store.User], error) {
	return byName(v, args, func(u store.User) relay.NameKey { return relay.NameKey{Name: u.Name, ID: u.ID} },
		func(p *string, after *relay.NameKey, limit int) ([]store.User, error) {
			return s.store.UsersPage(ctx, p, after, limit)
		},
		func(p *string) (int, error) { return s.store.UsersCount(ctx, p) })
}
