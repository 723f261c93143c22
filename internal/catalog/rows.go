package catalog

import "configmarket/internal/store"

// The catalog's objects are the store's rows: it reads and writes them as
// they are, with no other shape to translate to. These names let the layers
// above it (resolvers, graph/model) speak of them without importing the
// store.
type (
	Configuration = store.Configuration
	Version       = store.Version
	Review        = store.Review
	Category      = store.Category
	Developer     = store.Developer
	TariffPlan    = store.TariffPlan
	// CardRows are what a storefront page read of each card besides its
	// configuration (StorefrontPage.Cards).
	CardRows = store.CardRows
	// VersionColumns are how much of each version a card reads
	// (Cards.VersionColumns).
	VersionColumns = store.VersionColumns
	// The vocabularies of a configuration and its prices.
	Visibility  = store.Visibility
	SupportMode = store.SupportMode
	PriceKind   = store.PriceKind
)

// How much of each version a card reads: VersionColumns.
const (
	VersionSummaryColumns = store.VersionSummary
	VersionNumberColumns  = store.VersionNumber
	VersionDetailColumns  = store.VersionDetail
)
