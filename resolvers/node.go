package resolvers

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"configmarket/dataloaders"
	"configmarket/graph/model"
	"configmarket/internal/apperr"
	"configmarket/internal/relay"
)

// maxNodes bounds nodes(ids:) like every other list.
const maxNodes = relay.MaxFirst

// loadNode fetches any Node by global id through the operation's loaders,
// which apply the same visibility rules as every other path. An id of an
// unknown type, or of an object the viewer may not see, yields null.
func loadNode(ctx context.Context, id string) (model.Node, error) {
	typeName, local, err := relay.ParseID(id)
	if err != nil {
		return nil, apperr.Wrap(apperr.KindInvalid, "id", err)
	}
	key, err := uuid.Parse(local)
	if err != nil {
		return nil, nil
	}
	l := dataloaders.From(ctx)
	switch typeName {
	case typeTariffPlan:
		row, err := l.TariffPlan(ctx, key)
		return asNode(row, err, toTariffPlan)
	case typeDeveloper:
		row, err := l.Developer(ctx, key)
		return asNode(row, err, toDeveloper)
	case typeCustomer:
		row, err := l.Customer(ctx, key)
		return asNode(row, err, toCustomer)
	case typePartner:
		row, err := l.Partner(ctx, key)
		return asNode(row, err, toPartner)
	case typeConfiguration:
		row, err := l.Configuration(ctx, key)
		return asNode(row, err, toConfiguration)
	case typeVersion:
		row, err := l.Version(ctx, key)
		return asNode(row, err, toVersion)
	case typeReview:
		row, err := l.Review(ctx, key)
		return asNode(row, err, toReview)
	case typeCategory:
		row, err := l.Category(ctx, key)
		return asNode(row, err, toCategory)
	case typeInstallation:
		row, err := l.Installation(ctx, key)
		return asNode(row, err, toInstallation)
	case typeInvoice:
		row, err := l.Invoice(ctx, key)
		return asNode(row, err, toInvoice)
	case typePayment:
		row, err := l.Payment(ctx, key)
		return asNode(row, err, toPayment)
	case typePin:
		row, err := l.Pin(ctx, key)
		return asNode(row, err, toPin)
	case typePayout:
		row, err := l.Payout(ctx, key)
		return asNode(row, err, toPayout)
	case typeUser:
		row, err := l.User(ctx, key)
		return asNode(row, err, toUser)
	case typeUnappliedPayment:
		row, err := l.UnappliedPayment(ctx, key)
		return asNode(row, err, toUnappliedPayment)
	}
	return nil, nil
}

// loadNodes fetches the nodes of ids concurrently, so that they fall into
// one loader batch per type. One bad id nulls its own slot, with its error
// at its index, not the whole list.
func loadNodes(ctx context.Context, ids []string) []model.Node {
	out := make([]model.Node, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { out[i], errs[i] = loadNode(ctx, id) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			graphql.AddError(graphql.WithPathContext(ctx, graphql.NewPathWithIndex(i)), err)
		}
	}
	return out
}

// asNode maps a loaded row to its model, keeping nil (absent or hidden) as a
// nil interface rather than a typed nil.
func asNode[S any, M model.Node](row *S, err error, toModel func(*S) M) (model.Node, error) {
	if err != nil || row == nil {
		return nil, err
	}
	return toModel(row), nil
}
