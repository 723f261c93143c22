package earnings

import "configmarket/internal/store"

// The ledger's entries, totals and payouts are the store's rows: earnings
// reads and writes them as they are. These names let the layers above it
// (resolvers) speak of them without importing the store.
type (
	LedgerEntry         = store.LedgerEntry
	EntryTotal          = store.EntryTotal
	Payout              = store.Payout
	PartnerStatusChange = store.PartnerStatusChange
	// Party is the side of the ledger an entry is on.
	Party = store.Party
	// Grouping is what entry totals are summed by.
	Grouping = store.Grouping
	// PaidFor is what the payment behind an entry paid for.
	PaidFor = store.PaidFor
	// PayoutMethod is how a payout is paid.
	PayoutMethod = store.PayoutMethod
	// PayoutState is where a payout stands.
	PayoutState = store.PayoutState
)

// The parties whose entries a viewer reads (Ledger, Payouts).
const (
	PartyDeveloper = store.PartyDeveloper
	PartyPartner   = store.PartyPartner
)

// The groupings of entry totals (Ledger.Totals).
const (
	ByMonth         = store.ByMonth
	ByPaidFor       = store.ByPaidFor
	ByCustomer      = store.ByCustomer
	ByConfiguration = store.ByConfiguration
)
