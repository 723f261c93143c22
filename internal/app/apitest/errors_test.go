package apitest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"configmarket/internal/factory"
)

const signUpMutation = `mutation($input: SignUpInput!) {
	signUp(input: $input) { session { accessToken } userErrors { field message code } }
}`

func signUpInput(overrides map[string]any) map[string]any {
	in := map[string]any{
		"email": "fresh@example.test", "password": "long enough pw", "name": "Fresh",
		"role": "CUSTOMER", "organizationName": "Fresh LLC",
	}
	for k, v := range overrides {
		in[k] = v
	}
	if _, set := in["crmAccountId"]; !set {
		// A customer is a CRM account (SPEC §1): each sign-up its own.
		in["crmAccountId"] = fmt.Sprintf("crm-%v", in["email"])
	}
	return map[string]any{"input": in}
}

func TestBadInputIsReportedPerFieldAndWritesNothing(t *testing.T) {
	s := New(t)
	tables := []string{"users", "customers", "role_grants", "auth_sessions", "refresh_tokens"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = s.Count(t, tb)
	}
	res := s.Do(t, "", signUpMutation, signUpInput(map[string]any{
		"email": "not-an-email", "password": "short", "inn": "7707083894",
	}))
	if res.Code() != "" || get(res.Data, "signUp", "session") != nil {
		t.Fatalf("want userErrors only: %s", res.Raw)
	}
	codes := map[string]string{}
	for _, ue := range get(res.Data, "signUp", "userErrors").([]any) {
		codes[str(ue, "field", 1)] = str(ue, "code")
	}
	want := map[string]string{"email": "EMAIL_INVALID", "password": "PASSWORD_INVALID", "inn": "INN_INVALID"}
	for field, code := range want {
		if codes[field] != code {
			t.Errorf("field %s: code %q, want %q (all: %v)", field, codes[field], code, codes)
		}
	}
	for _, tb := range tables {
		if n := s.Count(t, tb); n != before[tb] {
			t.Errorf("%s: %d rows, was %d", tb, n, before[tb])
		}
	}
}

// The customer row is written before the user row; a conflict on the user
// must take the customer row back with it.
func TestConflictMidTransactionLeavesNoPartialWrite(t *testing.T) {
	s := New(t)
	existing := factory.Customer(t, s.Store)
	customers := s.Count(t, "customers")
	res := s.Do(t, "", signUpMutation, signUpInput(map[string]any{"email": strings.ToUpper(existing.Email)}))
	if str(res.Data, "signUp", "userErrors", 0, "code") != "EMAIL_TAKEN" ||
		str(res.Data, "signUp", "userErrors", 0, "field", 1) != "email" {
		t.Fatalf("duplicate email: %s", res.Raw)
	}
	if strings.Contains(res.Raw, "users_email_key") {
		t.Fatalf("constraint name leaked: %s", res.Raw)
	}
	if n := s.Count(t, "customers"); n != customers {
		t.Fatalf("customer row left behind: %d, was %d", n, customers)
	}
}

func TestTopLevelBadUserInput(t *testing.T) {
	s := New(t)
	cases := []struct {
		name, query string
		vars        map[string]any
		code        string
	}{
		{"page too large", `{ developers(first: 101) { nodes { id } } }`, nil, "BAD_USER_INPUT"},
		{"page empty", `{ developers(first: 0) { nodes { id } } }`, nil, "BAD_USER_INPUT"},
		{"cursor garbage", `{ developers(after: "%%%") { nodes { id } } }`, nil, "BAD_USER_INPUT"},
		{"cursor of the wrong shape", `query($c: String) { developers(after: $c) { nodes { id } } }`,
			map[string]any{"c": "WzEsMiwzXQ"}, "BAD_USER_INPUT"},
		{"id garbage", `{ node(id: "not base64!") { id } }`, nil, "BAD_USER_INPUT"},
		{"too many ids", `{ nodes(ids: [` + strings.Repeat(`"x",`, 101) + `]) { id } }`, nil, "BAD_USER_INPUT"},
		{"variable of the wrong type", `query($f: Int) { developers(first: $f) { nodes { id } } }`,
			map[string]any{"f": "abc"}, "BAD_USER_INPUT"},
		{"unknown argument", `{ developers(last: 1) { nodes { id } } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
		{"unparseable document", `{ developers(`, nil, "GRAPHQL_PARSE_FAILED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := s.Do(t, "", tc.query, tc.vars)
			if res.Code() != tc.code {
				t.Fatalf("code %q, want %q: %s", res.Code(), tc.code, res.Raw)
			}
			if strings.Contains(res.Raw, "relay") || strings.Contains(res.Raw, "float64") {
				t.Fatalf("message shows internals: %s", res.Raw)
			}
		})
	}
}

func TestInternalErrorShowsNoSQL(t *testing.T) {
	s := New(t)
	// Break the database under the running server: every statement on the
	// table now fails with a message naming SQL objects.
	if _, err := s.Pool.Exec(context.Background(), `alter table developers rename to developers_gone`); err != nil {
		t.Fatal(err)
	}
	res := s.Do(t, "", `{ developers { nodes { id } } }`, nil)
	if res.Code() != "INTERNAL" || res.Errors[0].Message != "internal error" {
		t.Fatalf("want a bare INTERNAL error: %s", res.Raw)
	}
	if reqID, _ := res.Errors[0].Extensions["requestId"].(string); reqID == "" {
		t.Fatalf("internal errors carry the request id for support: %s", res.Raw)
	}
	for _, leak := range []string{"developers", "relation", "SQLSTATE", "select", "42P01", "pgx", ".go"} {
		if strings.Contains(strings.ToLower(strings.ReplaceAll(res.Raw, `"developers"`, "")), strings.ToLower(leak)) {
			t.Errorf("response leaks %q: %s", leak, res.Raw)
		}
	}
}
