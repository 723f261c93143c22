package account

import "configmarket/internal/store"

// Accounts are the store's rows: the service reads and writes them as they
// are. These names let the layers above it (resolvers) speak of them
// without importing the store.
type (
	User      = store.User
	Customer  = store.Customer
	Partner   = store.Partner
	RoleGrant = store.RoleGrant
	APIToken  = store.APIToken
)
