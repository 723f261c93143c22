// Package probe attacks a running GraphQL endpoint the way graphql-cop does
// and reports every weakness it finds: introspection and field suggestions
// in production, alias, field and directive floods, depth, batching,
// GET and simple-request (CSRF) transports, CORS for a foreign origin, an
// oversized body, and internals in error answers.
package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Finding is one weakness.
type Finding struct {
	Check  string
	Detail string
}

func (f Finding) String() string { return f.Check + ": " + f.Detail }

// Prober probes one endpoint.
type Prober struct {
	// Endpoint is the GraphQL URL, e.g. http://localhost:8080/graphql.
	Endpoint string
	// ForeignOrigin is a browser origin the server must not allow.
	ForeignOrigin string
	// BodyLimit is the largest body the server should take; the probe
	// sends twice as much.
	BodyLimit int
	Client    *http.Client
}

type check struct {
	name string
	run  func(ctx context.Context, p *Prober) (bool, string, error)
}

// checks report true with a detail when they find a weakness.
var checks = []check{
	{"introspection", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.post(ctx, "application/json", query(`{ __schema { queryType { name } } }`), nil)
		return r.hasData("__schema"), "the schema is open to introspection", err
	}},
	{"field suggestions", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.post(ctx, "application/json", query(`{ configuratio { id } }`), nil)
		return strings.Contains(r.body, "Did you mean"), "errors suggest field names", err
	}},
	{"alias overloading", func(ctx context.Context, p *Prober) (bool, string, error) {
		var b strings.Builder
		for i := range 101 {
			fmt.Fprintf(&b, "a%d: __typename ", i)
		}
		r, err := p.post(ctx, "application/json", query("{ "+b.String()+"}"), nil)
		return r.hasData("a100"), "101 aliases in one document were executed", err
	}},
	{"field duplication", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.post(ctx, "application/json", query("{ "+strings.Repeat("__typename ", 500)+"}"), nil)
		return r.hasData("__typename"), "500 duplicated fields were executed", err
	}},
	{"directive overloading", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.post(ctx, "application/json", query("{ __typename "+strings.Repeat("@include(if: true) ", 50)+"}"), nil)
		return r.hasData("__typename"), "50 repeated directives were executed", err
	}},
	{"depth", func(ctx context.Context, p *Prober) (bool, string, error) {
		q := "{ " + strings.Repeat("configurations { nodes { developer { ", 8) + "name" + strings.Repeat(" } } }", 8) + " }"
		r, err := p.post(ctx, "application/json", query(q), nil)
		return r.hasData("configurations"), "a 24-level query was executed", err
	}},
	{"batching", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.post(ctx, "application/json", `[{"query":"{ __typename }"},{"query":"{ __typename }"}]`, nil)
		return strings.HasPrefix(strings.TrimSpace(r.body), "["), "a JSON array of operations was executed", err
	}},
	{"GET query", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.get(ctx, `{ __typename }`)
		return r.hasData("__typename"), "queries are served over GET (CSRF, caching of private data)", err
	}},
	{"GET mutation", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.get(ctx, `mutation { logOut { loggedOut } }`)
		return r.hasData("logOut"), "mutations are served over GET", err
	}},
	{"form POST (CSRF)", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.post(ctx, "application/x-www-form-urlencoded", url.Values{"query": {"{ __typename }"}}.Encode(), nil)
		return r.hasData("__typename"), "a form post (no CORS preflight) was executed", err
	}},
	{"text/plain POST (CSRF)", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.post(ctx, "text/plain", query(`{ __typename }`), nil)
		return r.hasData("__typename"), "a text/plain post (no CORS preflight) was executed", err
	}},
	{"CORS", func(ctx context.Context, p *Prober) (bool, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodOptions, p.Endpoint, nil)
		if err != nil {
			return false, "", err
		}
		req.Header.Set("Origin", p.ForeignOrigin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := p.Client.Do(req)
		if err != nil {
			return false, "", err
		}
		res.Body.Close()
		allowed := res.Header.Get("Access-Control-Allow-Origin")
		return allowed == "*" || allowed == p.ForeignOrigin, "a foreign origin may call the API from a browser", nil
	}},
	{"oversized body", func(ctx context.Context, p *Prober) (bool, string, error) {
		pad := strings.Repeat(" ", 2*p.BodyLimit)
		r, err := p.post(ctx, "application/json", `{"query":"{ __typename }`+pad+`"}`, nil)
		return r.status != http.StatusRequestEntityTooLarge, fmt.Sprintf("a %d-byte body got %d, not 413", 2*p.BodyLimit, r.status), err
	}},
	{"error internals", func(ctx context.Context, p *Prober) (bool, string, error) {
		leaks := []string{"goroutine ", ".go:", "runtime error", "pgx", "SQLSTATE", "panic"}
		for _, body := range []string{`{"query": `, `{"query":"{ node(id: \"\u0000\") { id } }"}`, `{"query":"{ configurations(first: 1, after: \"garbage\") { nodes { id } } }"}`} {
			r, err := p.post(ctx, "application/json", body, nil)
			if err != nil {
				return false, "", err
			}
			for _, l := range leaks {
				if strings.Contains(r.body, l) {
					return true, fmt.Sprintf("an error answer mentions %q", l), nil
				}
			}
		}
		return false, "", nil
	}},
	{"tracing", func(ctx context.Context, p *Prober) (bool, string, error) {
		r, err := p.post(ctx, "application/json", query(`{ __typename }`), nil)
		return strings.Contains(r.body, `"tracing"`), "responses carry execution traces", err
	}},
}

// Run runs every check and returns the findings; an error means the
// server could not be probed at all.
func (p *Prober) Run(ctx context.Context) ([]Finding, error) {
	if p.Client == nil {
		p.Client = http.DefaultClient
	}
	if p.ForeignOrigin == "" {
		p.ForeignOrigin = "https://evil.example"
	}
	if p.BodyLimit == 0 {
		p.BodyLimit = 1 << 20
	}
	var out []Finding
	for _, c := range checks {
		found, detail, err := c.run(ctx, p)
		if err != nil {
			return out, fmt.Errorf("%s: %w", c.name, err)
		}
		if found {
			out = append(out, Finding{Check: c.name, Detail: detail})
		}
	}
	return out, nil
}

type response struct {
	status int
	body   string
}

// hasData reports whether the answer carries data under key: the server
// executed what it should have refused.
func (r response) hasData(key string) bool {
	var v struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if json.Unmarshal([]byte(r.body), &v) != nil {
		return false
	}
	d, ok := v.Data[key]
	return ok && string(d) != "null"
}

func query(q string) string {
	b, _ := json.Marshal(map[string]string{"query": q})
	return string(b)
}

func (p *Prober) post(ctx context.Context, contentType, body string, headers map[string]string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint, bytes.NewBufferString(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return p.do(req)
}

func (p *Prober) get(ctx context.Context, q string) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Endpoint+"?"+url.Values{"query": {q}}.Encode(), nil)
	if err != nil {
		return response{}, err
	}
	return p.do(req)
}

func (p *Prober) do(req *http.Request) (response, error) {
	res, err := p.Client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	return response{status: res.StatusCode, body: string(b)}, err
}
