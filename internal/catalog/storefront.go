package catalog

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// StorefrontArgs are the storefront listing's arguments as the client sent them.
type StorefrontArgs struct {
	First    *int
	After    *string
	Search   string
	Category string
	Tags     []string
	// SaleMode is rent, sale or empty for both.
	SaleMode store.PriceKind
	HasTrial *bool
	// PricePlan is the tariff plan code MinPrice, MaxPrice and the price
	// order refer to; empty means the default plan.
	PricePlan string
	MinPrice  *string
	MaxPrice  *string
	Developer *uuid.UUID
	// Order is popularity, newest, rating, price or relevance; empty means
	// relevance when searching and popularity otherwise.
	Order string
	// Desc overrides the order's natural direction.
	Desc *bool
	// Cards are what the page's cards show besides the configurations:
	// the page reads them in the same statement.
	Cards Cards
	// SkipCursors leaves the page's cursors empty, for a caller that writes
	// none (encoding 50 of them was a few percent of a page's CPU).
	SkipCursors bool
	// SkipHasNext reads no row past the page, for a caller that does not
	// tell whether another page follows: HasNext is then false.
	SkipHasNext bool
}

// Cards name what a storefront page shows per card besides the
// configuration's short fields.
type Cards struct {
	// Description is the configuration's long description.
	Description bool
	// Details are the configuration's fields a card need not show
	// (store.StorefrontQuery.Details).
	Details   bool
	Developer bool
	// DeveloperDetail reads the developers' other fields than their id,
	// slug and name too.
	DeveloperDetail bool
	// Reviews is how many of the newest reviews; 0: none.
	Reviews int
	// Versions is how many of the newest published versions; 0: none.
	Versions int
	// VersionColumns are how much of each version they read.
	VersionColumns store.VersionColumns
	Prices         bool
}

// rows are what the cards' statement reads. Their versions are those
// everyone may see (publicStates), whoever asks.
func (c Cards) rows() store.CardRowsWanted {
	with := store.CardRowsWanted{Developer: c.Developer, DeveloperDetail: c.DeveloperDetail, Prices: c.Prices, Reviews: c.Reviews}
	if c.Versions > 0 {
		with.Versions, with.VersionStates, with.VersionColumns = c.Versions, publicStates, c.VersionColumns
	}
	return with
}

// ConfigurationPage is one page of configurations with their cursors.
type ConfigurationPage = relay.Connection[store.Configuration]

// StorefrontPage is a storefront page and, row by row, what its cards
// show (StorefrontArgs.Cards). The versions are those everyone may see
// (publicStates), whoever asks.
type StorefrontPage struct {
	ConfigurationPage
	Cards []store.CardRows
}

var orders = map[string]struct {
	order store.StorefrontOrder
	desc  bool
}{
	"popularity": {store.OrderPopularity, true},
	"newest":     {store.OrderNewest, true},
	"rating":     {store.OrderRating, true},
	"price":      {store.OrderPrice, false},
	"relevance":  {store.OrderRelevance, true},
}

const (
	maxSearchLen = 200
	maxTags      = 10
)

// Storefront lists public, published configurations. The listing is the
// same for every viewer (private and unlisted ones are never listed), so
// pages are cached and shared.
func (s *Service) Storefront(ctx context.Context, _ identity.Viewer, args StorefrontArgs) (StorefrontPage, error) {
	sq, err := s.storefrontQuery(ctx, args)
	if err != nil {
		return StorefrontPage{}, err
	}
	sq.Description, sq.Details = args.Cards.Description, args.Cards.Details
	sq.With = args.Cards.rows()
	size := sq.Limit
	if !args.SkipHasNext {
		sq.Limit++ // the row past the page proves there is a next one
	}
	tag := cursorTag(sq)
	rows, err := remember(ctx, s, "storefront page", sq, func(ctx context.Context) (store.StorefrontRows, error) {
		return s.store.StorefrontPage(ctx, sq)
	})
	if err != nil {
		return StorefrontPage{}, err
	}
	configurations, hasNext := relay.Page(rows.Configurations, size)
	n := len(configurations)
	out := StorefrontPage{ConfigurationPage: ConfigurationPage{
		Rows: configurations, Cursors: make([]string, n), HasNext: hasNext,
	}, Cards: rows.Cards[:n:n]}
	if !args.SkipCursors {
		for i, k := range rows.Keys[:n] {
			out.Cursors[i] = relay.EncodeCursor(tag, k.Value, k.ID)
		}
	}
	return out, nil
}

// cursorTag names the order a cursor was made in, so a cursor is refused
// by a listing sorted another way.
func cursorTag(sq store.StorefrontQuery) string {
	dir := "asc"
	if sq.Desc {
		dir = "desc"
	}
	for name, v := range orders {
		if v.order == sq.Order {
			return name + "/" + dir
		}
	}
	return dir
}

var searchWord = regexp.MustCompile(`[\p{L}\p{N}]+`)

// storefrontQuery validates the arguments and resolves codes and slugs.
func (s *Service) storefrontQuery(ctx context.Context, a StorefrontArgs) (store.StorefrontQuery, error) {
	var errs apperr.List
	limit, err := relay.PageSize(a.First)
	if err != nil {
		errs = append(errs, apperr.Wrap(apperr.KindInvalid, "first", err))
	}
	sq := store.StorefrontQuery{Limit: limit, HasTrial: a.HasTrial, DeveloperID: a.Developer}

	sq.Search = strings.TrimSpace(a.Search)
	if utf8.RuneCountInString(sq.Search) > maxSearchLen {
		errs = append(errs, apperr.Invalid("filter.search", "search is longer than %d characters", maxSearchLen))
	}
	if sq.Search != "" {
		if words := searchWord.FindAllString(strings.ToLower(sq.Search), 8); len(words) > 0 {
			sq.Prefix = strings.Join(words, ":* & ") + ":*"
		}
	}

	if a.Category != "" {
		cats, err := s.Categories(ctx)
		if err != nil {
			return sq, err
		}
		for _, c := range cats {
			if c.Slug == a.Category {
				sq.CategoryID = &c.ID
			}
		}
		if sq.CategoryID == nil {
			errs = append(errs, apperr.Invalid("filter.category", "no category %q", a.Category))
		}
	}
	if len(a.Tags) > maxTags {
		errs = append(errs, apperr.Invalid("filter.tags", "at most %d tags", maxTags))
	}
	for _, t := range a.Tags {
		sq.Tags = append(sq.Tags, strings.ToLower(strings.TrimSpace(t)))
	}
	switch a.SaleMode {
	case store.PriceRent:
		sq.SellsRent = ptrBool(true)
	case store.PriceSale:
		sq.SellsSale = ptrBool(true)
	}

	needsPlan := a.MinPrice != nil || a.MaxPrice != nil || a.Order == "price"
	if needsPlan || a.PricePlan != "" {
		plan, err := s.planOrDefault(ctx, a.PricePlan)
		if err != nil {
			return sq, err
		}
		if plan == nil {
			errs = append(errs, apperr.Invalid("filter.price.plan", "no tariff plan %q", a.PricePlan).WithCode("TARIFF_PLAN_UNKNOWN"))
		} else {
			sq.PlanID = &plan.ID
		}
	}
	for field, raw := range map[string]*string{"filter.price.min": a.MinPrice, "filter.price.max": a.MaxPrice} {
		if raw == nil {
			continue
		}
		m, err := money.Parse(*raw, money.RUB)
		if err != nil || m.IsNegative() {
			errs = append(errs, apperr.Invalid(field, "price must be a non-negative amount such as \"500.00\""))
			continue
		}
		if field == "filter.price.min" {
			sq.MinPrice = &m.Minor
		} else {
			sq.MaxPrice = &m.Minor
		}
	}

	orderName := a.Order
	if orderName == "" {
		orderName = "popularity"
		if sq.Search != "" {
			orderName = "relevance"
		}
	}
	o, ok := orders[orderName]
	if !ok {
		errs = append(errs, apperr.Invalid("orderBy.field", "unknown order %q", orderName))
	}
	sq.Order, sq.Desc = o.order, o.desc
	if a.Desc != nil {
		sq.Desc = *a.Desc
	}
	if a.After != nil {
		var k store.SortKey
		var tag string
		if err := relay.DecodeCursor(*a.After, &tag, &k.Value, &k.ID); err != nil || tag != cursorTag(sq) {
			errs = append(errs, apperr.Invalid("after", "cursor is not valid for this connection"))
		}
		sq.After = &k
	}
	return sq, errs.Err()
}

func (s *Service) planOrDefault(ctx context.Context, code string) (*store.TariffPlan, error) {
	if code != "" {
		return s.TariffPlanByCode(ctx, code)
	}
	plans, err := s.TariffPlans(ctx)
	if err != nil {
		return nil, err
	}
	for i := range plans {
		if plans[i].IsDefault {
			return &plans[i], nil
		}
	}
	return nil, nil
}

func ptrBool(b bool) *bool { return &b }
