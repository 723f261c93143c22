// Package operations holds the GraphQL documents the four clients send
// (storefront SPA, mobile apps, developer dashboard, partner analytics, plus
// the back office), one operation per file, and the persisted-document
// manifest of the mobile apps built from them. The tests validate every
// document against schema.graphqls, and the Node clients under clients/
// load them from here, so a client can only ship what the schema answers.
package operations

import "embed"

// Documents are the .graphql files, by client folder.
//
//go:embed */*.graphql
var Documents embed.FS

// MobileManifest is the trusted-documents manifest of the mobile apps, in
// Apollo's persisted query manifest format: each operation's id is the
// SHA-256 of the exact body Apollo Client sends (its document with
// __typename added, printed by graphql-js). clients/manifest.mjs builds it
// from shared/ and mobile/; a test fails when it is stale.
//
//go:embed mobile.manifest.json
var MobileManifest []byte
