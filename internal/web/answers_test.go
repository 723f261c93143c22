package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// answering is an executor that answers every operation with resp.
type answering struct{ resp *graphql.Response }

func (a answering) CreateOperationContext(_ context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	return &graphql.OperationContext{RawQuery: p.Query, Operation: &ast.OperationDefinition{Operation: ast.Query}}, nil
}

func (a answering) DispatchOperation(ctx context.Context, _ *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	return graphql.OneShot(a.resp), ctx
}

func (a answering) DispatchError(_ context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

// The transport writes what gqlgen's own would, byte for byte, for answers
// with data, errors, extensions and none, for deferred answers (left to
// gqlgen) and for bodies that are not JSON (gqlgen's request error).
func TestPOSTWritesWhatGqlgenWould(t *testing.T) {
	yes := true
	answers := map[string]*graphql.Response{
		"data and extensions": {Data: json.RawMessage(`{"configurations":{"nodes":[{"slug":"a","price":"500.00"}]}}`),
			Extensions: map[string]any{"cost": map[string]any{"requestedQueryCost": 12, "maximumAvailable": 5000}}},
		"errors and no data": {Errors: gqlerror.List{{Message: "first must be between 1 and 100", Path: ast.Path{ast.PathName("configurations")},
			Extensions: map[string]any{"code": "BAD_USER_INPUT"}}}},
		"errors and data": {Errors: gqlerror.List{{Message: "boom"}}, Data: json.RawMessage(`{"a":null}`)},
		"nothing":         {},
		"deferred":        {Data: json.RawMessage(`{"b":1}`), Label: "x", HasNext: &yes},
	}
	bodies := map[string]string{"operation": `{"query":"{ a }"}`, "not JSON": `{"query":`}
	for name, resp := range answers {
		for bodyName, body := range bodies {
			ours, theirs := httptest.NewRecorder(), httptest.NewRecorder()
			for _, run := range []struct {
				rec *httptest.ResponseRecorder
				tr  graphql.Transport
			}{{ours, POST{}}, {theirs, transport.POST{}}} {
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				run.tr.Do(run.rec, req, answering{resp})
			}
			if ours.Code != theirs.Code || ours.Body.String() != theirs.Body.String() {
				t.Errorf("%s, %s: %d %s, gqlgen: %d %s", name, bodyName, ours.Code, ours.Body, theirs.Code, theirs.Body)
			}
			if length := ours.Header().Get("Content-Length"); length != "" && length != strconv.Itoa(ours.Body.Len()) {
				t.Errorf("%s, %s: Content-Length %s for %d bytes", name, bodyName, length, ours.Body.Len())
			} else if length == "" && bodyName == "operation" && resp.Label == "" {
				t.Errorf("%s, %s: answered without Content-Length", name, bodyName)
			}
		}
	}
}
