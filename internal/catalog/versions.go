package catalog

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

const maxChangelogLen = 20000

// CreateVersion adds a draft version to a configuration of v's developer.
// Its number must be greater than every earlier version's, in any state.
func (s *Service) CreateVersion(ctx context.Context, v identity.Viewer, configurationID uuid.UUID, number, changelog string) (store.Version, error) {
	key, changelog, err := versionInput(number, changelog)
	if err != nil {
		return store.Version{}, err
	}
	var ver store.Version
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		c, err := ownConfiguration(ctx, q, v, configurationID)
		if err != nil {
			return err
		}
		if c.State == store.ConfigurationArchived {
			return apperr.FailedPrecondition("an archived configuration gets no new versions").WithCode("CONFIGURATION_ARCHIVED")
		}
		if err := checkOrder(ctx, q, c.ID, privateStates, uuid.Nil, key); err != nil {
			return err
		}
		if ver, err = q.CreateVersion(ctx, c.ID, key, changelog); err != nil {
			return err
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeVersion, ver.ID))
		return nil
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return ver, err
}

// UpdateVersion edits a draft version of v's developer.
func (s *Service) UpdateVersion(ctx context.Context, v identity.Viewer, id uuid.UUID, number, changelog *string) (store.Version, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeVersion, id))
	var ver store.Version
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := ownVersion(ctx, q, v, id)
		if err != nil {
			return err
		}
		if cur.State != store.VersionDraft {
			return apperr.FailedPrecondition("only a draft version can be edited").WithCode("VERSION_NOT_DRAFT")
		}
		num, log := VersionNumber(cur), cur.Changelog
		if number != nil {
			num = *number
		}
		if changelog != nil {
			log = *changelog
		}
		key, log, err := versionInput(num, log)
		if err != nil {
			return err
		}
		// A new number must again be greater than every other version; an
		// older draft whose changelog alone changes keeps its place.
		if key != (store.VersionKey{Major: cur.Major, Minor: cur.Minor, Patch: cur.Patch}) {
			if err := checkOrder(ctx, q, cur.ConfigurationID, privateStates, cur.ID, key); err != nil {
				return err
			}
		}
		ver, err = q.UpdateVersion(ctx, id, key, log)
		return err
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return ver, err
}

// SubmitVersion sends a draft to moderation after the checks the server
// can automate (SPEC §2): version order, required fields, prices for every
// sale mode, and no other configuration with the same title. Every failed
// check is reported at once.
func (s *Service) SubmitVersion(ctx context.Context, v identity.Viewer, id uuid.UUID) (store.Version, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeVersion, id))
	var ver store.Version
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := ownVersion(ctx, q, v, id)
		if err != nil {
			return err
		}
		if cur.State != store.VersionDraft {
			return apperr.FailedPrecondition("only a draft version can be submitted").WithCode("VERSION_NOT_DRAFT")
		}
		c, err := q.LockConfiguration(ctx, cur.ConfigurationID)
		if err != nil {
			return err
		}
		if errs := s.submitChecks(ctx, q, c, cur); len(errs) > 0 {
			return errs
		}
		if ver, err = q.SubmitVersion(ctx, id); err != nil {
			return err
		}
		return q.InsertModerationEvent(ctx, c.ID, &ver.ID, store.ModerationSubmitted, nil, v.UserID)
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return ver, err
}

func (s *Service) submitChecks(ctx context.Context, q *store.Queries, c store.Configuration, ver store.Version) apperr.List {
	var errs apperr.List
	missing := func(field, what string) {
		errs = append(errs, apperr.FailedPrecondition("%s is required before submitting", what).
			WithCode("REQUIRED_FIELD_MISSING").WithField("configuration", field))
	}
	if c.State == store.ConfigurationArchived || c.State == store.ConfigurationSuspended {
		errs = append(errs, apperr.FailedPrecondition("a %s configuration cannot be submitted", c.State).WithCode("CONFIGURATION_"+strings.ToUpper(string(c.State))))
	}
	if strings.TrimSpace(c.Summary) == "" {
		missing("summary", "a summary")
	}
	if strings.TrimSpace(c.Description) == "" {
		missing("description", "a description")
	}
	if c.CategoryID == nil {
		missing("category", "a category")
	}
	if strings.TrimSpace(ver.Changelog) == "" {
		errs = append(errs, apperr.FailedPrecondition("the version needs a changelog").WithCode("REQUIRED_FIELD_MISSING").WithField("version", "changelog"))
	}
	// What reaches customers must climb: a submitted number is greater than
	// every version in review or approved.
	if err := checkOrder(ctx, q, c.ID, []store.VersionState{store.VersionInReview, store.VersionApproved}, ver.ID, store.VersionKey{Major: ver.Major, Minor: ver.Minor, Patch: ver.Patch}); err != nil {
		if e, ok := apperr.As(err); ok {
			errs = append(errs, e)
		} else {
			return apperr.List{apperr.Internal(err)}
		}
	}
	prices, err := q.CurrentPrices(ctx, []uuid.UUID{c.ID})
	if err != nil {
		return apperr.List{apperr.Internal(err)}
	}
	plans, err := s.TariffPlans(ctx)
	if err != nil {
		return apperr.List{apperr.Internal(err)}
	}
	rentPlans, hasSale := map[uuid.UUID]bool{}, false
	for _, p := range prices {
		if p.Kind == store.PriceRent {
			rentPlans[*p.TariffPlanID] = true
		} else {
			hasSale = true
		}
	}
	if c.SellsRent && len(rentPlans) < len(plans) {
		errs = append(errs, apperr.FailedPrecondition("renting needs a rent price on every tariff plan").WithCode("PRICE_MISSING").WithField("configuration", "rentPrices"))
	}
	if c.SellsPurchase && !hasSale {
		errs = append(errs, apperr.FailedPrecondition("selling needs a sale price").WithCode("PRICE_MISSING").WithField("configuration", "salePrice"))
	}
	taken, err := q.TitleTakenByAnother(ctx, c.ID, c.Title)
	if err != nil {
		return apperr.List{apperr.Internal(err)}
	}
	if taken {
		errs = append(errs, apperr.FailedPrecondition("another configuration already has the title %q", c.Title).WithCode("DUPLICATE_TITLE").WithField("configuration", "title"))
	}
	pkgErrs, err := s.packageChecks(ctx, q, c, ver)
	if err != nil {
		return apperr.List{apperr.Internal(err)}
	}
	return append(errs, pkgErrs...)
}

// checkOrder refuses a number not greater than every other version of the
// configuration in states (except the one being edited).
func checkOrder(ctx context.Context, q *store.Queries, configurationID uuid.UUID, states []store.VersionState, except uuid.UUID, key store.VersionKey) error {
	highest, err := q.HighestVersion(ctx, configurationID, states, except)
	if err != nil {
		return err
	}
	if highest != nil && !semverLess(*highest, key) {
		return apperr.Invalid("input.number", "version must be greater than %s", formatSemver(*highest)).WithCode("VERSION_NOT_GREATER")
	}
	return nil
}

func versionInput(number, changelog string) (store.VersionKey, string, error) {
	var errs apperr.List
	key, ok := parseSemver(strings.TrimSpace(number))
	if !ok {
		errs = append(errs, apperr.Invalid("input.number", "version must look like 1.2.3").WithCode("VERSION_INVALID"))
	}
	changelog = strings.TrimSpace(changelog)
	if utf8.RuneCountInString(changelog) > maxChangelogLen {
		errs = append(errs, apperr.Invalid("input.changelog", "changelog is longer than %d characters", maxChangelogLen))
	}
	return key, changelog, errs.Err()
}

// ownVersion locks a version of one of v's developer's configurations;
// another developer's version answers NotFound.
// OwnVersion reads, locked, a version of one of v's own configurations;
// for anyone else it does not exist.
func OwnVersion(ctx context.Context, q *store.Queries, v identity.Viewer, id uuid.UUID) (store.Version, error) {
	return ownVersion(ctx, q, v, id)
}

func ownVersion(ctx context.Context, q *store.Queries, v identity.Viewer, id uuid.UUID) (store.Version, error) {
	dev, err := requireDeveloper(v)
	if err != nil {
		return store.Version{}, err
	}
	ver, err := q.LockVersion(ctx, id)
	if err != nil {
		if apperr.Is(err, apperr.KindNotFound) {
			return store.Version{}, apperr.NotFound("no such version").WithField("input", "id")
		}
		return store.Version{}, err
	}
	cs, err := q.ConfigurationsByIDs(ctx, []uuid.UUID{ver.ConfigurationID}, store.Scope{DeveloperID: &dev})
	// SECURITY: a developer changes only versions of its own configurations.
	if err == nil && (len(cs) == 0 || cs[0].DeveloperID != dev) {
		return store.Version{}, apperr.NotFound("no such version").WithField("input", "id")
	}
	return ver, err
}
