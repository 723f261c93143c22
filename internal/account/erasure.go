package account

import (
	"context"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// ErasePersonalData erases the viewer's personal data (SPEC §9) after
// checking its password, and ends every session of the user. Admins are
// platform staff and are removed by the platform, not by themselves.
func (s *Service) ErasePersonalData(ctx context.Context, v identity.Viewer, pw string) error {
	if v.Anonymous() {
		return apperr.Unauthenticated("log in first")
	}
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, v.UserID))
	if v.IsAdmin() {
		return apperr.Forbidden("admin accounts are removed by the platform")
	}
	user, err := s.User(ctx, v)
	if err != nil {
		return err
	}
	if ok, err := s.hasher.Verify(pw, user.PasswordHash); err != nil {
		return apperr.Internal(err)
	} else if !ok {
		return apperr.Invalid("input.password", "the password is wrong").WithCode("INVALID_CREDENTIALS")
	}
	// The erasure is audited like every mutation, but must not write down
	// anew the address whose history it erases.
	if p := audit.From(ctx); p != nil {
		p.WithoutIP = true
	}
	var developerRenamed bool
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		if developerRenamed, err = q.ErasePersonalData(ctx, user.ID); err != nil {
			return err
		}
		return q.RevokeUserSessions(ctx, user.ID, store.RevokeErasure)
	}, store.Audit(audit.From(ctx)))
	if err == nil && developerRenamed {
		// Developer names are public: cached storefront answers must not
		// keep showing the erased one.
		s.public.Bump(ctx)
	}
	return err
}
