package account

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/inn"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// Bounds the database checks too (users, developers, partners, customers).
const (
	maxNameLen    = 200
	maxBioLen     = 5000
	maxWebsiteLen = 2000
)

// ProfileInput is a user's own profile edit; nil fields keep their value.
// An empty phone clears it.
type ProfileInput struct {
	Name  *string
	Phone *string
}

// DeveloperProfileInput edits a developer's public profile; nil fields keep
// their value, an empty website clears it.
type DeveloperProfileInput struct {
	Name, Bio, Website, Slug *string
}

// PartnerProfileInput edits a partner's profile; nil fields keep their
// value, an empty website clears it (an INN is replaced, never cleared).
type PartnerProfileInput struct {
	Name, INN, Website *string
}

// CustomerProfileInput edits a customer's organisation name and INN; nil
// fields keep their value (an INN is replaced, never cleared).
type CustomerProfileInput struct {
	Name, INN *string
}

var errErased = apperr.FailedPrecondition("this account's personal data was erased; it cannot be filled in again").WithCode("ACCOUNT_ERASED")

var (
	// phoneRe is an E.164 number once spaces, dashes, dots and brackets are
	// taken out: a plus, a non-zero digit, 7 to 14 more digits.
	phoneRe = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	slugRe  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
)

// UpdateProfile edits the viewer's own user: its name and phone. An
// erased user stays erased.
func (s *Service) UpdateProfile(ctx context.Context, v identity.Viewer, in ProfileInput) (store.User, error) {
	if v.Anonymous() {
		return store.User{}, apperr.Unauthenticated("log in first")
	}
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeUser, v.UserID))
	// SECURITY: a user edits only itself (the id comes from the verified
	// token, never from input), and only in a session: an integration's
	// token does not speak for the human's personal data.
	if v.ByAPIToken() {
		return store.User{}, errByAPIToken
	}
	cur, err := s.User(ctx, v)
	if err != nil {
		return store.User{}, err
	}
	var errs apperr.List
	name, phone := cur.Name, cur.Phone
	if in.Name != nil {
		name = normaliseName(*in.Name, "input.name", &errs)
	}
	if in.Phone != nil {
		phone = normalisePhone(*in.Phone, &errs)
	}
	if err := errs.Err(); err != nil {
		return store.User{}, err
	}
	var u store.User
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		u, err = q.UpdateUserProfile(ctx, v.UserID, name, phone)
		if apperr.Is(err, apperr.KindNotFound) {
			return errErased
		}
		return err
	}, store.Audit(audit.From(ctx)))
	return u, err
}

// mayEditOrganisation decides who edits the profile of the customer,
// developer or partner id (role says which).
func mayEditOrganisation(v identity.Viewer, role identity.Role, id uuid.UUID) error {
	// SECURITY: an organisation's profile is edited by someone acting for
	// that very organisation (from the verified token) or by an admin;
	// anyone else is told no more than that it may not.
	if v.IsAdmin() || (!v.Anonymous() && v.Role == role && v.ActingFor == id) {
		return nil
	}
	return apperr.Hidden(v, "only the organisation itself or an admin edits its profile")
}

// lockLive locks an organisation's row (through lock) and refuses it when
// an erasure pseudonymised it: the erasure's names stay.
func lockLive[T any](ctx context.Context, q *store.Queries, id uuid.UUID, lock func(context.Context, uuid.UUID) (T, error)) (T, error) {
	row, err := lock(ctx, id)
	if err != nil {
		return row, err
	}
	// The row is locked first, so an erasure running now either committed
	// before (and is seen here) or waits for this edit and overwrites it.
	if erased, err := q.OrganisationErased(ctx, id); err != nil || erased {
		var zero T
		if err == nil {
			err = errErased
		}
		return zero, err
	}
	return row, nil
}

// UpdateDeveloperProfile edits a developer's public profile. Its slug is
// fixed from its first publication on: the storefront's links to the
// developer page are out in the world.
func (s *Service) UpdateDeveloperProfile(ctx context.Context, v identity.Viewer, id uuid.UUID, in DeveloperProfileInput) (store.Developer, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeDeveloper, id))
	if err := mayEditOrganisation(v, identity.RoleDeveloper, id); err != nil {
		return store.Developer{}, err
	}
	var errs apperr.List
	var name, bio, website, slug string
	if in.Name != nil {
		name = normaliseName(*in.Name, "input.name", &errs)
	}
	if in.Bio != nil {
		if bio = strings.TrimSpace(*in.Bio); utf8.RuneCountInString(bio) > maxBioLen || !utf8.ValidString(bio) {
			errs = append(errs, apperr.Invalid("input.bio", "bio must be at most %d characters", maxBioLen))
		}
	}
	if in.Website != nil {
		website = normaliseWebsite(*in.Website, &errs)
	}
	if in.Slug != nil {
		if slug = strings.TrimSpace(*in.Slug); !slugRe.MatchString(slug) {
			errs = append(errs, apperr.Invalid("input.slug", "slug may hold lower-case letters, digits and inner dashes (1 to 64)").WithCode("SLUG_INVALID"))
		}
	}
	if err := errs.Err(); err != nil {
		return store.Developer{}, err
	}
	var d store.Developer
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := lockLive(ctx, q, id, q.LockDeveloper)
		if err != nil {
			return err
		}
		if in.Slug != nil && slug != cur.Slug {
			if published, err := q.DeveloperHasPublished(ctx, id); err != nil {
				return err
			} else if published {
				return apperr.FailedPrecondition("the slug is fixed once the developer has published").WithCode("SLUG_LOCKED").WithField("input", "slug")
			}
			cur.Slug = slug
		}
		setIf(&cur.Name, in.Name, name)
		setIf(&cur.Bio, in.Bio, bio)
		setOptional(&cur.Website, in.Website, website)
		d, err = q.UpdateDeveloperProfile(ctx, cur)
		return withField(err, "input", "slug")
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		// Developer names, slugs and bios are public: cached storefront
		// answers must not keep showing the old ones.
		s.public.Bump(ctx)
	}
	return d, err
}

// UpdatePartnerProfile edits a partner's name, INN and website.
func (s *Service) UpdatePartnerProfile(ctx context.Context, v identity.Viewer, id uuid.UUID, in PartnerProfileInput) (store.Partner, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypePartner, id))
	if err := mayEditOrganisation(v, identity.RolePartner, id); err != nil {
		return store.Partner{}, err
	}
	var errs apperr.List
	var name, taxNumber, website string
	if in.Name != nil {
		name = normaliseName(*in.Name, "input.name", &errs)
	}
	if in.INN != nil {
		taxNumber = normaliseINN(*in.INN, &errs)
	}
	if in.Website != nil {
		website = normaliseWebsite(*in.Website, &errs)
	}
	if err := errs.Err(); err != nil {
		return store.Partner{}, err
	}
	var p store.Partner
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := lockLive(ctx, q, id, q.LockPartner)
		if err != nil {
			return err
		}
		setIf(&cur.Name, in.Name, name)
		setOptional(&cur.INN, in.INN, taxNumber)
		setOptional(&cur.Website, in.Website, website)
		p, err = q.UpdatePartnerProfile(ctx, cur)
		return withField(err, "input", fieldOfConflict(err))
	}, store.Audit(audit.From(ctx)))
	return p, err
}

// UpdateCustomerProfile edits a customer's organisation name and INN.
func (s *Service) UpdateCustomerProfile(ctx context.Context, v identity.Viewer, id uuid.UUID, in CustomerProfileInput) (store.Customer, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeCustomer, id))
	if err := mayEditOrganisation(v, identity.RoleCustomer, id); err != nil {
		return store.Customer{}, err
	}
	var errs apperr.List
	var name, taxNumber string
	if in.Name != nil {
		name = normaliseName(*in.Name, "input.name", &errs)
	}
	if in.INN != nil {
		taxNumber = normaliseINN(*in.INN, &errs)
	}
	if err := errs.Err(); err != nil {
		return store.Customer{}, err
	}
	var c store.Customer
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := lockLive(ctx, q, id, q.LockCustomer)
		if err != nil {
			return err
		}
		setIf(&cur.Name, in.Name, name)
		setOptional(&cur.INN, in.INN, taxNumber)
		c, err = q.UpdateCustomerProfile(ctx, cur)
		return withField(err, "input", fieldOfConflict(err))
	}, store.Audit(audit.From(ctx)))
	return c, err
}

func setIf(dst *string, given *string, v string) {
	if given != nil {
		*dst = v
	}
}

// setOptional sets a nullable column when the field was given: empty
// clears it.
func setOptional(dst **string, given *string, v string) {
	if given == nil {
		return
	}
	if v == "" {
		*dst = nil
		return
	}
	*dst = &v
}

func normaliseName(raw, field string, errs *apperr.List) string {
	name := strings.TrimSpace(raw)
	if n := utf8.RuneCountInString(name); n < 1 || n > maxNameLen || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		*errs = append(*errs, apperr.Invalid(field, "name must be 1 to %d characters without control characters", maxNameLen).WithCode("NAME_INVALID"))
	}
	return name
}

// normalisePhone keeps a phone in E.164 form (+79161234567); empty clears it.
func normalisePhone(raw string, errs *apperr.List) *string {
	p := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, strings.TrimSpace(raw))
	if p == "" {
		return nil
	}
	if !phoneRe.MatchString(p) {
		*errs = append(*errs, apperr.Invalid("input.phone", "phone must be an international number such as +7 916 123-45-67").WithCode("PHONE_INVALID"))
	}
	return &p
}

// normaliseWebsite checks a website is an absolute http(s) URL with a host;
// empty clears it.
func normaliseWebsite(raw string, errs *apperr.List) string {
	w := strings.TrimSpace(raw)
	if w == "" {
		return ""
	}
	u, err := url.Parse(w)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		len(w) > maxWebsiteLen || strings.IndexFunc(w, unicode.IsControl) >= 0 {
		*errs = append(*errs, apperr.Invalid("input.website", "website must be an http:// or https:// address").WithCode("WEBSITE_INVALID"))
	}
	return w
}

func normaliseINN(raw string, errs *apperr.List) string {
	t := strings.TrimSpace(raw)
	if !inn.Valid(t) {
		*errs = append(*errs, apperr.Invalid("input.inn", "tax number is not a valid INN").WithCode("INN_INVALID"))
	}
	return t
}
