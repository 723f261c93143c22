package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// POST is gqlgen's POST transport, except that an operation's answer is
// written as it was built. gqlgen encodes every answer with encoding/json,
// which scans, compacts and HTML-escapes all of "data" again although the
// executor (or the response cache) built it as valid JSON: for a storefront
// page of 30 KB that is a third of the CPU of a cached answer. Request
// errors (bad JSON, invalid documents) still take gqlgen's own path.
type POST struct{ transport.POST }

func (t POST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	out := &answerWriter{ResponseWriter: w}
	t.POST.Do(out, r, writingExecutor{GraphExecutor: exec, out: out})
}

// writingExecutor writes an operation's answer itself and gives gqlgen an
// empty one, whose encoding answerWriter then drops.
type writingExecutor struct {
	graphql.GraphExecutor
	out *answerWriter
}

func (e writingExecutor) DispatchOperation(ctx context.Context, rc *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	next, ctx := e.GraphExecutor.DispatchOperation(ctx, rc)
	return func(ctx context.Context) *graphql.Response {
		resp := next(ctx)
		if resp == nil || !e.out.answer(resp) {
			return resp
		}
		return &graphql.Response{}
	}, ctx
}

// answerWriter passes writes through until it has written an answer
// itself; then it drops the rest (gqlgen's encoding of the empty answer).
type answerWriter struct {
	http.ResponseWriter
	answered bool
}

func (w *answerWriter) Write(p []byte) (int, error) {
	if w.answered {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// answer writes resp as encoding/json would (the fields of
// graphql.Response in order), with "data" as built. Incremental (deferred)
// answers are left to gqlgen. The answer goes out in one write, with its
// length announced: written part by part, the closing brace waited in
// net/http's buffer and went out in a segment of its own, a send and a
// receive more per answer than the 30 KB page's copy costs.
func (w *answerWriter) answer(resp *graphql.Response) bool {
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		return false
	}
	head := make([]byte, 0, 64)
	head = append(head, '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return false
		}
		head = append(append(append(head, `"errors":`...), errs...), ',')
	}
	head = append(head, `"data":`...)
	data := []byte(resp.Data)
	if len(data) == 0 {
		data = []byte("null")
	}
	tail := make([]byte, 0, 64)
	if len(resp.Extensions) > 0 {
		ext, err := json.Marshal(resp.Extensions)
		if err != nil {
			return false
		}
		tail = append(append(tail, `,"extensions":`...), ext...)
	}
	tail = append(tail, '}')
	body := bodies.Get().(*[]byte)
	*body = append(append(append((*body)[:0], head...), data...), tail...)
	w.Header().Set("Content-Length", strconv.Itoa(len(*body)))
	_, _ = w.ResponseWriter.Write(*body)
	if cap(*body) <= maxPooledBody {
		bodies.Put(body)
	}
	w.answered = true
	return true
}

// bodies are the buffers answers are put together in; one far larger than
// a storefront page is left to the collector rather than kept.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledBody = 256 << 10
