package persisted

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// ClientNameHeader names the client application, as Apollo's client
// libraries (web, iOS, Kotlin) send it.
const ClientNameHeader = "Apollographql-Client-Name"

// CodeNotInList is the extensions.code of a document refused because it is
// not among its client's trusted documents. It differs from APQ's
// PERSISTED_QUERY_NOT_FOUND on purpose: Apollo's persisted-query link
// retries that one with the full document, which would be refused again.
const CodeNotInList = "PERSISTED_QUERY_NOT_IN_LIST"

// Trusted is a gqlgen extension that lets the restricted clients run only
// the manifest's documents, sent by hash (APQ) or in full. It runs before
// gqlgen's AutomaticPersistedQuery, which then reads the body by hash.
//
// It is not access control: any caller can name another client or none.
// It holds the shipped apps to the documents that were reviewed with them,
// so a schema change can be checked against what is in the field.
type Trusted struct {
	manifest *Manifest
	clients  map[string]bool
}

// NewTrusted restricts the named clients to m.
func NewTrusted(m *Manifest, clients []string) Trusted {
	t := Trusted{manifest: m, clients: map[string]bool{}}
	for _, c := range clients {
		if c != "" {
			t.clients[c] = true
		}
	}
	return t
}

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = Trusted{}

func (Trusted) ExtensionName() string                   { return "TrustedDocuments" }
func (Trusted) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters refuses a restricted client's document unless
// the manifest holds it.
func (t Trusted) MutateOperationParameters(_ context.Context, raw *graphql.RawParams) *gqlerror.Error {
	client := raw.Headers.Get(ClientNameHeader)
	if !t.clients[client] {
		return nil
	}
	hash := apqHash(raw.Extensions)
	if raw.Query != "" {
		sent := Hash(raw.Query)
		if hash != "" && hash != sent {
			return refuse(client)
		}
		hash = sent
	}
	if _, ok := t.manifest.Lookup(hash); ok {
		return nil
	}
	return refuse(client)
}

func refuse(client string) *gqlerror.Error {
	err := gqlerror.Errorf("client %q may only send its trusted documents, and this one is not among them", client)
	errcode.Set(err, CodeNotInList)
	return err
}

// apqHash is extensions.persistedQuery.sha256Hash, or "".
func apqHash(ext map[string]any) string {
	pq, _ := ext["persistedQuery"].(map[string]any)
	h, _ := pq["sha256Hash"].(string)
	return h
}
