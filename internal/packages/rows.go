package packages

import "configmarket/internal/store"

// VersionPackage is a version's package as the store keeps it (its hash,
// size, manifest and the problem found in it); the name lets the layers
// above (resolvers) speak of it without importing the store.
type VersionPackage = store.VersionPackage
