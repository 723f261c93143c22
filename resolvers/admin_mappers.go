package resolvers

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"configmarket/graph/model"
	"configmarket/internal/account"
	"configmarket/internal/catalog"
	"configmarket/internal/relay"
)

// pageArgs are a connection field's paging arguments; its total is counted
// (a second query) only when the operation selects totalCount.
func pageArgs(ctx context.Context, first *int, after *string) relay.PageArgs {
	return relay.PageArgs{First: first, After: after, WithTotal: selects(ctx, "totalCount")}
}

// selects reports whether the field being resolved selects name.
func selects(ctx context.Context, name string) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// searchArgs are the arguments of an admins' search.
func searchArgs(ctx context.Context, search *string, first *int, after *string) account.SearchArgs {
	return account.SearchArgs{Search: search, PageArgs: pageArgs(ctx, first, after)}
}

// fromEnums is fromEnum of a list argument; none stays nil.
func fromEnums[D, G ~string](gs []G) []D {
	var out []D
	for _, g := range gs {
		out = append(out, fromEnum[D](g))
	}
	return out
}

// total is a connection's totalCount where the schema requires one: 0
// when it was not selected (and so not counted).
func total(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

func toDeveloperConnection(p catalog.DeveloperPage) *model.DeveloperConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toDeveloper,
		func(c string, n *model.Developer) model.DeveloperEdge { return model.DeveloperEdge{Cursor: c, Node: n} })
	return &model.DeveloperConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext), TotalCount: total(p.Total)}
}

func toCustomerConnection(p relay.Connection[account.Customer]) *model.CustomerConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toCustomer,
		func(c string, n *model.Customer) model.CustomerEdge { return model.CustomerEdge{Cursor: c, Node: n} })
	return &model.CustomerConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext), TotalCount: total(p.Total)}
}

func toPartnerConnection(p relay.Connection[account.Partner]) *model.PartnerConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toPartner,
		func(c string, n *model.Partner) model.PartnerEdge { return model.PartnerEdge{Cursor: c, Node: n} })
	return &model.PartnerConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext), TotalCount: total(p.Total)}
}

func toUserConnection(p relay.Connection[account.User]) *model.UserConnection {
	edges, nodes := connection(p.Rows, p.Cursors, toUser,
		func(c string, n *model.User) model.UserEdge { return model.UserEdge{Cursor: c, Node: n} })
	return &model.UserConnection{Edges: edges, Nodes: nodes, PageInfo: pageInfo(p.Cursors, p.HasNext), TotalCount: total(p.Total)}
}
