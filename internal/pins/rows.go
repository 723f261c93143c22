package pins

import "configmarket/internal/store"

// Pins are the store's rows: the service reads and writes them as they
// are. These names let the layers above it (resolvers) speak of them
// without importing the store.
type (
	Pin      = store.Pin
	PinState = store.PinState
)
