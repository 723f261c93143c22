package catalog

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// ConfigurationInput are a developer's edits; nil fields keep their value
// (or take the default on creation).
type ConfigurationInput struct {
	Slug        *string
	Title       *string
	Summary     *string
	Description *string
	// Category is a category slug; "" clears it.
	Category    *string
	Tags        []string
	Screenshots []string
	Visibility  *store.Visibility
	// SaleModes holds rent and/or sale.
	SaleModes   []store.PriceKind
	SupportMode *store.SupportMode
	TrialDays   *int
}

const (
	maxTitleLen       = 120
	maxSummaryLen     = 300
	maxDescriptionLen = 50000
	maxTagLen         = 30
	maxScreenshots    = 10
	// SPEC's defaults of the settings trial.max_days and
	// trial.default_days, which decide once the service UseSettings.
	maxTrialDays     = 30
	defaultTrialDays = 14
)

// trialLimits are a new configuration's trial days and the most a
// developer may set.
type trialLimits struct{ def, max int }

// UseSettings makes the trial limits come from src, read at each edit.
func (s *Service) UseSettings(src settings.Source) { s.settings = src }

// trialLimitsNow are the limits in force (settings.Overlay).
func (s *Service) trialLimitsNow(ctx context.Context) (trialLimits, error) {
	return settings.Overlay(ctx, s.settings, trialLimits{defaultTrialDays, maxTrialDays}, func(set settings.Snapshot, _ trialLimits) trialLimits {
		return trialLimits{int(set.Count(settings.TrialDefaultDays)), int(set.Count(settings.TrialMaxDays))}
	})
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)

// requireDeveloper returns the developer v acts for.
func requireDeveloper(v identity.Viewer) (uuid.UUID, error) {
	if v.Anonymous() {
		return uuid.Nil, apperr.Unauthenticated("log in first")
	}
	// SECURITY: only developers create and edit configurations (SPEC §1).
	if v.Role != identity.RoleDeveloper {
		return uuid.Nil, apperr.Forbidden("only developers manage configurations")
	}
	return v.ActingFor, nil
}

// ownConfiguration locks configuration id for a change by its developer.
// Another developer's configuration answers NotFound, exactly like a
// missing one.
func ownConfiguration(ctx context.Context, q *store.Queries, v identity.Viewer, id uuid.UUID) (store.Configuration, error) {
	dev, err := requireDeveloper(v)
	if err != nil {
		return store.Configuration{}, err
	}
	c, err := q.LockConfiguration(ctx, id)
	// SECURITY: a developer changes only its own configurations.
	if apperr.Is(err, apperr.KindNotFound) || (err == nil && c.DeveloperID != dev) {
		return store.Configuration{}, apperr.NotFound("no such configuration").WithField("input", "id")
	}
	return c, err
}

// CreateConfiguration creates a draft configuration of v's developer.
func (s *Service) CreateConfiguration(ctx context.Context, v identity.Viewer, in ConfigurationInput) (store.Configuration, error) {
	dev, err := requireDeveloper(v)
	if err != nil {
		return store.Configuration{}, err
	}
	trials, err := s.trialLimitsNow(ctx)
	if err != nil {
		return store.Configuration{}, err
	}
	f := store.ConfigurationFields{
		Visibility: store.VisibilityPublic, SellsRent: true, SupportMode: store.SupportDeveloper, TrialDays: trials.def,
		Tags: []string{}, Screenshots: []string{},
	}
	var errs apperr.List
	if in.Slug == nil {
		errs = append(errs, apperr.Invalid("input.slug", "slug is required"))
	}
	if in.Title == nil {
		errs = append(errs, apperr.Invalid("input.title", "title is required"))
	}
	if errs = append(errs, s.apply(ctx, &f, in, trials)...); len(errs) > 0 {
		return store.Configuration{}, errs
	}
	var c store.Configuration
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		if c, err = q.CreateConfiguration(ctx, dev, f); err != nil {
			return withInputField(err)
		}
		audit.SetTarget(ctx, relay.UUIDID(relay.TypeConfiguration, c.ID))
		return nil
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return c, err
}

// UpdateConfiguration edits a configuration of v's developer. The slug is
// fixed once published: links to it are out in the world.
func (s *Service) UpdateConfiguration(ctx context.Context, v identity.Viewer, id uuid.UUID, in ConfigurationInput) (store.Configuration, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeConfiguration, id))
	trials, err := s.trialLimitsNow(ctx)
	if err != nil {
		return store.Configuration{}, err
	}
	var c store.Configuration
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := ownConfiguration(ctx, q, v, id)
		if err != nil {
			return err
		}
		if cur.State == store.ConfigurationArchived {
			return apperr.FailedPrecondition("an archived configuration cannot be edited").WithCode("CONFIGURATION_ARCHIVED")
		}
		if in.Slug != nil && *in.Slug != cur.Slug && cur.PublishedAt != nil {
			return apperr.Invalid("input.slug", "the slug of a published configuration cannot change").WithCode("SLUG_FIXED")
		}
		f := fieldsOf(cur)
		if errs := s.apply(ctx, &f, in, trials); len(errs) > 0 {
			return errs
		}
		c, err = q.UpdateConfiguration(ctx, id, f)
		return withInputField(err)
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return c, err
}

func fieldsOf(c store.Configuration) store.ConfigurationFields {
	return store.ConfigurationFields{
		Slug: c.Slug, Title: c.Title, Summary: c.Summary, Description: c.Description, CategoryID: c.CategoryID,
		Tags: c.Tags, Screenshots: c.Screenshots, Visibility: c.Visibility, SellsRent: c.SellsRent,
		SellsPurchase: c.SellsPurchase, SupportMode: c.SupportMode, TrialDays: c.TrialDays,
	}
}

// apply validates in and writes it over f, collecting every input error.
func (s *Service) apply(ctx context.Context, f *store.ConfigurationFields, in ConfigurationInput, trials trialLimits) apperr.List {
	var errs apperr.List
	if in.Slug != nil {
		f.Slug = strings.TrimSpace(*in.Slug)
		if !slugPattern.MatchString(f.Slug) {
			errs = append(errs, apperr.Invalid("input.slug", "slug may hold 1 to 64 lower-case letters, digits and inner dashes").WithCode("SLUG_INVALID"))
		}
	}
	text := func(field string, dst *string, src *string, min, max int) {
		if src == nil {
			return
		}
		*dst = strings.TrimSpace(*src)
		if n := utf8.RuneCountInString(*dst); n < min || n > max {
			errs = append(errs, apperr.Invalid("input."+field, "%s must be %d to %d characters long", field, min, max))
		}
	}
	text("title", &f.Title, in.Title, 1, maxTitleLen)
	text("summary", &f.Summary, in.Summary, 0, maxSummaryLen)
	text("description", &f.Description, in.Description, 0, maxDescriptionLen)
	if in.Category != nil {
		f.CategoryID = nil
		if *in.Category != "" {
			cats, err := s.Categories(ctx)
			if err != nil {
				return append(errs, apperr.Internal(err))
			}
			for _, c := range cats {
				if c.Slug == *in.Category {
					f.CategoryID = &c.ID
				}
			}
			if f.CategoryID == nil {
				errs = append(errs, apperr.Invalid("input.category", "no category %q", *in.Category))
			}
		}
	}
	if in.Tags != nil {
		f.Tags = []string{}
		for _, t := range in.Tags {
			t = strings.ToLower(strings.TrimSpace(t))
			if n := utf8.RuneCountInString(t); n < 1 || n > maxTagLen {
				errs = append(errs, apperr.Invalid("input.tags", "each tag must be 1 to %d characters long", maxTagLen))
				break
			}
			if !slices.Contains(f.Tags, t) {
				f.Tags = append(f.Tags, t)
			}
		}
		if len(f.Tags) > maxTags {
			errs = append(errs, apperr.Invalid("input.tags", "at most %d tags", maxTags))
		}
	}
	if in.Screenshots != nil {
		if len(in.Screenshots) > maxScreenshots {
			errs = append(errs, apperr.Invalid("input.screenshots", "at most %d screenshots", maxScreenshots))
		}
		f.Screenshots = []string{}
		for _, raw := range in.Screenshots {
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "https" || u.Host == "" || len(raw) > 500 {
				errs = append(errs, apperr.Invalid("input.screenshots", "screenshots must be https URLs").WithCode("SCREENSHOT_INVALID"))
				break
			}
			f.Screenshots = append(f.Screenshots, raw)
		}
	}
	if in.Visibility != nil {
		f.Visibility = *in.Visibility
		if !slices.Contains([]store.Visibility{store.VisibilityPublic, store.VisibilityUnlisted, store.VisibilityPrivate}, f.Visibility) {
			errs = append(errs, apperr.Invalid("input.visibility", "visibility must be public, unlisted or private"))
		}
	}
	if in.SaleModes != nil {
		f.SellsRent, f.SellsPurchase = slices.Contains(in.SaleModes, store.PriceRent), slices.Contains(in.SaleModes, store.PriceSale)
		if !f.SellsRent && !f.SellsPurchase {
			errs = append(errs, apperr.Invalid("input.saleModes", "choose rent, sale or both").WithCode("SALE_MODE_REQUIRED"))
		}
	}
	if in.SupportMode != nil {
		f.SupportMode = *in.SupportMode
		if f.SupportMode != store.SupportDeveloper && f.SupportMode != store.SupportPlatform {
			errs = append(errs, apperr.Invalid("input.supportMode", "support mode must be developer or platform"))
		}
	}
	if in.TrialDays != nil {
		f.TrialDays = *in.TrialDays
		// SPEC §2: 0 means no trial, at most 30 days (trial.max_days).
		if f.TrialDays < 0 || f.TrialDays > trials.max {
			errs = append(errs, apperr.Invalid("input.trialDays", "trial days must be between 0 and %d", trials.max).WithCode("TRIAL_DAYS_INVALID"))
		}
	}
	return errs
}

// withInputField points a constraint error at the input field it concerns.
func withInputField(err error) error {
	e, ok := apperr.As(err)
	if !ok || e.Field != nil {
		return err
	}
	switch e.Code {
	case "SLUG_TAKEN", "SLUG_INVALID":
		return e.WithField("input", "slug")
	case "TRIAL_DAYS_INVALID":
		return e.WithField("input", "trialDays")
	}
	return err
}

// PlanPrice is a rent price for one tariff plan, as the client sent it.
type PlanPrice struct {
	Plan   string
	Amount string
}

// SetPrices records new rent prices per plan and a new sale price. Each
// changed price is a new history row in force from now; unchanged prices
// add no row. Subscriptions already paid keep their price (billing reads
// the history at each period start, SPEC §3).
func (s *Service) SetPrices(ctx context.Context, v identity.Viewer, id uuid.UUID, rent []PlanPrice, sale *string) (store.Configuration, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeConfiguration, id))
	plans, err := s.TariffPlans(ctx)
	if err != nil {
		return store.Configuration{}, err
	}
	var errs apperr.List
	var next []store.Price
	seen := map[string]bool{}
	for i, p := range rent {
		field := "input.rent." + strconv.Itoa(i)
		if seen[p.Plan] {
			errs = append(errs, apperr.Invalid(field, "plan %q is priced twice", p.Plan).WithCode("PRICE_INVALID"))
			continue
		}
		seen[p.Plan] = true
		var plan *store.TariffPlan
		for j := range plans {
			if plans[j].Code == p.Plan {
				plan = &plans[j]
			}
		}
		amount, err := money.Parse(p.Amount, money.RUB)
		switch {
		case plan == nil:
			errs = append(errs, apperr.Invalid(field, "no tariff plan %q", p.Plan).WithCode("TARIFF_PLAN_UNKNOWN"))
		case err != nil || amount.IsNegative():
			errs = append(errs, apperr.Invalid(field, "price must be a non-negative amount such as \"500.00\"").WithCode("PRICE_INVALID"))
		default:
			next = append(next, store.Price{ConfigurationID: id, Kind: store.PriceRent, TariffPlanID: &plan.ID, Amount: amount})
		}
	}
	if sale != nil {
		amount, err := money.Parse(*sale, money.RUB)
		if err != nil || amount.IsNegative() {
			errs = append(errs, apperr.Invalid("input.sale", "price must be a non-negative amount such as \"35000.00\"").WithCode("PRICE_INVALID"))
		} else {
			next = append(next, store.Price{ConfigurationID: id, Kind: store.PriceSale, Amount: amount})
		}
	}
	if len(errs) > 0 {
		return store.Configuration{}, errs
	}
	var c store.Configuration
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		if c, err = ownConfiguration(ctx, q, v, id); err != nil {
			return err
		}
		current, err := q.CurrentPrices(ctx, []uuid.UUID{id})
		if err != nil {
			return err
		}
		for _, p := range next {
			if unchanged(current, p) {
				continue
			}
			p.CreatedBy = &v.UserID
			if err := q.InsertPrice(ctx, p); err != nil {
				return err
			}
		}
		return nil
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return c, err
}

func unchanged(current []store.Price, p store.Price) bool {
	for _, c := range current {
		if c.Kind == p.Kind && equalPlan(c.TariffPlanID, p.TariffPlanID) {
			return c.Amount == p.Amount
		}
	}
	return false
}

func equalPlan(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// ArchiveConfiguration takes a configuration off the storefront for good;
// customers that have it keep it (SPEC §2).
func (s *Service) ArchiveConfiguration(ctx context.Context, v identity.Viewer, id uuid.UUID) (store.Configuration, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeConfiguration, id))
	var c store.Configuration
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		cur, err := ownConfiguration(ctx, q, v, id)
		if err != nil {
			return err
		}
		if cur.State == store.ConfigurationArchived {
			c = cur
			return nil
		}
		if c, err = q.SetConfigurationState(ctx, id, store.ConfigurationArchived, nil); err != nil {
			return err
		}
		return q.InsertModerationEvent(ctx, id, nil, store.ModerationArchived, nil, v.UserID)
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return c, err
}

// InviteCustomer lets a customer see and install a private configuration.
func (s *Service) InviteCustomer(ctx context.Context, v identity.Viewer, id, customerID uuid.UUID) (store.Configuration, error) {
	audit.SetTarget(ctx, relay.UUIDID(relay.TypeConfiguration, id))
	var c store.Configuration
	err := s.store.InTx(ctx, func(q *store.Queries) (err error) {
		if c, err = ownConfiguration(ctx, q, v, id); err != nil {
			return err
		}
		err = q.InviteCustomer(ctx, id, customerID)
		if e, ok := apperr.As(err); ok && e.Kind == apperr.KindInternal {
			// A foreign key miss: the customer does not exist.
			return apperr.NotFound("no such customer").WithField("input", "customerId")
		}
		return err
	}, store.Audit(audit.From(ctx)))
	if err == nil {
		s.invalidate(ctx)
	}
	return c, err
}
