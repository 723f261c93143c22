package relay

// The GraphQL object types whose global ids the server hands out. The
// resolvers build and parse ids with them, and the domains name the object
// each mutation acts on (its audit target) with them, so that an audit
// row's target is the same id the API shows.
const (
	TypeTariffPlan    = "TariffPlan"
	TypeDeveloper     = "Developer"
	TypeCustomer      = "Customer"
	TypePartner       = "Partner"
	TypeUser          = "User"
	TypeCategory      = "Category"
	TypeConfiguration = "Configuration"
	TypeVersion       = "Version"
	TypeReview        = "Review"
	TypeInstallation  = "Installation"
	TypeInvoice       = "Invoice"
	TypePayment       = "Payment"
	TypePin           = "Pin"
	TypePayout        = "Payout"
	// TypeUnappliedPayment is a provider event the books could not take.
	TypeUnappliedPayment = "UnappliedPayment"
	// TypeAPIToken is one of a user's API tokens.
	TypeAPIToken = "ApiToken"
)

// The rows of the rate tables are no objects with an id of their own: an
// audit row names a changed rate by its type and key, e.g.
// ID(TypeDeveloperRate, "standard:developer").
const (
	TypeDeveloperRate = "DeveloperRate"
	TypePartnerRate   = "PartnerRate"
	// TypeSetting names a setting by its key, e.g. ID(TypeSetting, "payout.hold_days").
	TypeSetting = "Setting"
)
