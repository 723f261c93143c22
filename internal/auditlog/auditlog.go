// Package auditlog lets admins read the audit log and check that its hash
// chain is intact.
package auditlog

import (
	"context"
	"strconv"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Service reads the audit log.
type Service struct{ store *store.Store }

// New builds the service.
func New(st *store.Store) *Service { return &Service{store: st} }

func requireAdmin(v identity.Viewer) error {
	// SECURITY: the audit log names every actor and IP: admins only (SPEC §9).
	if !v.IsAdmin() {
		return apperr.Hidden(v, "only admins read the audit log")
	}
	return nil
}

// Entry is one audited action, as the store keeps it; the name lets the
// layers above (resolvers) speak of it without importing the store.
type Entry = store.AuditRow

// Page is a page of audit rows.
type Page = relay.Connection[Entry]

// Filter narrows the audit log; a nil field does not narrow it. It is the
// store's query under the domain's name.
type Filter store.AuditFilter

// Entries lists the audit log newest first.
func (s *Service) Entries(ctx context.Context, v identity.Viewer, f Filter, first *int, after *string) (Page, error) {
	if err := requireAdmin(v); err != nil {
		return Page{}, err
	}
	limit, err := relay.PageSize(first)
	if err != nil {
		return Page{}, apperr.Wrap(apperr.KindInvalid, "first", err)
	}
	var key *int64
	if after != nil {
		var id int64
		if err := relay.DecodeCursor(*after, &id); err != nil {
			return Page{}, apperr.Wrap(apperr.KindInvalid, "after", err)
		}
		key = &id
	}
	rows, err := s.store.AuditPage(ctx, store.AuditFilter(f), key, limit+1)
	if err != nil {
		return Page{}, err
	}
	return relay.Cut(rows, limit, func(r Entry) string { return relay.EncodeCursor(r.ID) }), nil
}

// Verify recomputes the hash chain; it returns "" when intact, otherwise
// the id of the first row that does not follow.
func (s *Service) Verify(ctx context.Context, v identity.Viewer) (string, error) {
	if err := requireAdmin(v); err != nil {
		return "", err
	}
	id, err := s.store.BrokenAuditRow(ctx)
	if err != nil || id == 0 {
		return "", err
	}
	return strconv.FormatInt(id, 10), nil
}
