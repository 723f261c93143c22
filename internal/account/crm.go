package account

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/store"
)

// maxCRMAccountID bounds a CRM account id (the database checks the same:
// customers_crm_account_id_check).
const maxCRMAccountID = 200

var errCRMAccountAlreadySet = apperr.FailedPrecondition(
	"the account's CRM account id is already set; it cannot be changed").WithCode("CRM_ACCOUNT_ALREADY_SET")

// normaliseCRMAccountID trims a CRM account id and checks it: present, 1 to
// 200 characters, no control characters (a NUL would not even reach
// PostgreSQL's text). Its errors point at input.crmAccountId.
func normaliseCRMAccountID(raw *string) (string, *apperr.Error) {
	var crm string
	if raw != nil {
		crm = strings.TrimSpace(*raw)
	}
	if crm == "" {
		return "", apperr.Invalid("input.crmAccountId",
			"a customer is a CRM account: give its CRM account id").WithCode("CRM_ACCOUNT_REQUIRED")
	}
	if !utf8.ValidString(crm) || utf8.RuneCountInString(crm) > maxCRMAccountID || strings.IndexFunc(crm, unicode.IsControl) >= 0 {
		return "", apperr.Invalid("input.crmAccountId",
			"the CRM account id must be 1 to %d characters without control characters", maxCRMAccountID).WithCode("CRM_ACCOUNT_INVALID")
	}
	return crm, nil
}

// SetCRMAccountID links the customer account v acts for, created before
// sign-up required it, to its CRM account, once. Its license checks name
// that id from then on. An id another customer holds is CRM_ACCOUNT_TAKEN;
// an account that has one already gets CRM_ACCOUNT_ALREADY_SET.
func (s *Service) SetCRMAccountID(ctx context.Context, v identity.Viewer, raw string) (store.Customer, error) {
	if v.Anonymous() {
		return store.Customer{}, apperr.Unauthenticated("log in first")
	}
	// SECURITY: only a customer sets a CRM account id, and only for the
	// account it acts for (from the verified token, never from input), and
	// only once: the id decides which CRM a license key is valid in, so
	// changing it later would move the account's licenses to another CRM.
	if v.Role != identity.RoleCustomer || v.ActingFor == uuid.Nil {
		return store.Customer{}, apperr.Forbidden("only a customer sets its own CRM account id")
	}
	crm, verr := normaliseCRMAccountID(&raw)
	if verr != nil {
		return store.Customer{}, verr
	}
	var c store.Customer
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		var set bool
		var err error
		c, set, err = q.SetCRMAccountID(ctx, v.ActingFor, crm)
		if err != nil {
			return withField(err, "input", fieldOfConflict(err))
		}
		if !set {
			return errCRMAccountAlreadySet
		}
		return nil
	}, store.Audit(audit.From(ctx)))
	return c, err
}
