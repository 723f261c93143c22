package apitest

import (
	"fmt"
	"strings"
	"testing"

	"configmarket/internal/factory"
)

func TestDocumentsAreBounded(t *testing.T) {
	s := New(t)
	deep := "{ viewer { customer { installations { nodes { configuration { developer { configurations { nodes { versions { nodes { configuration { developer { configurations { nodes { slug } } } } } } } } } } } } } } }"
	var aliases strings.Builder
	aliases.WriteString("{ ")
	for i := range 31 {
		aliases.WriteString("a")
		aliases.WriteString(strings.Repeat("x", i))
		aliases.WriteString(": tariffPlans { code } ")
	}
	aliases.WriteString("}")
	// Fragments that spread the next one twice: 2^20 fields once expanded.
	var fragments strings.Builder
	fragments.WriteString("{ ...f0 } ")
	for i := range 20 {
		fmt.Fprintf(&fragments, "fragment f%d on Query { ...f%d ...f%d } ", i, i+1, i+1)
	}
	fragments.WriteString("fragment f20 on Query { __typename }")
	cases := []struct {
		name, query, reason string
	}{
		{"500 duplicated fields", "{ " + strings.Repeat("__typename ", 500) + "}", "MAX_SELECTIONS_EXCEEDED"},
		{"exponential fragments", fragments.String(), "MAX_SELECTIONS_EXCEEDED"},
		{"depth", deep, "MAX_DEPTH_EXCEEDED"},
		{"aliases", aliases.String(), "MAX_ALIASES_EXCEEDED"},
		{"cost: connections multiply by first", `{ configurations(first: 100) { nodes { versions(first: 100) { nodes { number } } } } }`, "MAX_COST_EXCEEDED"},
		{"two logins in one document", `mutation { a: logIn(input: {email: "a@x.test", password: "p"}) { userErrors { code } } b: logIn(input: {email: "b@x.test", password: "p"}) { userErrors { code } } }`, "SENSITIVE_MUTATION_REPEATED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(t, "", tc.query, nil)
			if res.Code() != "BAD_USER_INPUT" || res.Errors[0].Extensions["reason"] != tc.reason || res.Data != nil {
				t.Fatalf("want BAD_USER_INPUT/%s: %s", tc.reason, res.Raw)
			}
			if !strings.Contains(res.Raw, `"cost":{`) {
				t.Fatalf("no extensions.cost: %s", res.Raw)
			}
		})
	}
	ok := s.Do(t, "", `{ configurations(first: 50) { nodes { slug versions(first: 3) { nodes { number } } } } }`, nil)
	if ok.Code() != "" || !strings.Contains(ok.Raw, `"requestedQueryCost":`) {
		t.Fatalf("a normal page: %s", ok.Raw)
	}
}

func TestBatchedArraysAreRefused(t *testing.T) {
	s := New(t)
	res := s.raw(t, "POST", "/graphql", "application/json", `[{"query":"{ tariffPlans { code } }"},{"query":"{ tariffPlans { code } }"}]`, nil)
	if res.status < 400 || strings.Contains(res.body, `"code":"A"`) {
		t.Fatalf("batch executed: %d %s", res.status, res.body)
	}
}

func TestQueryBudgetAnswers429WithRetryAfter(t *testing.T) {
	s := New(t)
	// 4,800-cost documents: the 10,000 burst allows two, the third waits.
	heavy := `{"query":"{ configurations(first: 100) { nodes { versions(first: 23) { nodes { number } } } } }"}`
	var last rawResponse
	for range 3 {
		last = s.raw(t, "POST", "/graphql", "application/json", heavy, nil)
	}
	if last.status != 429 || last.header.Get("Retry-After") == "" || !strings.Contains(last.body, `"RATE_LIMITED"`) {
		t.Fatalf("third heavy query: %d retry-after=%q %s", last.status, last.header.Get("Retry-After"), last.body)
	}
	// Another client (a logged-in user has its own bucket) is unaffected.
	c := factory.Customer(t, s.Store)
	token, _ := s.LogIn(t, c, nil)
	if res := s.Do(t, token, `{ tariffPlans { code } }`, nil); res.Code() != "" {
		t.Fatalf("another client limited: %s", res.Raw)
	}
}

func TestLicenseChecksAreRateLimitedPerKey(t *testing.T) {
	s := New(t)
	q := `query($k: String!) { licenseCheck(key: $k, accountId: "crm-x") { valid } }`
	limited := false
	for range 130 {
		if res := s.Do(t, "", q, map[string]any{"k": "CM-GUESS"}); res.Code() == "RATE_LIMITED" {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("130 checks of one key in a burst were all answered")
	}
}
