package commerce

import "configmarket/internal/store"

// Commerce's objects are the store's rows: it reads and writes them as they
// are. These names let the layers above it (resolvers, graph/model) speak
// of them without importing the store.
type (
	Installation      = store.Installation
	InstallationMode  = store.InstallationMode
	InstallationState = store.InstallationState
	Invoice           = store.Invoice
	InvoiceState      = store.InvoiceState
	Payment           = store.Payment
	UnappliedPayment  = store.UnappliedPayment
	UnappliedState    = store.UnappliedState
)
