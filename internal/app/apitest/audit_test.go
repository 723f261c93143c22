package apitest

import (
	"context"
	"testing"
)

func TestEveryMutationIsAuditedAndTheChainHolds(t *testing.T) {
	w := newCommerceWorld(t)
	ctx := context.Background()
	var before int64
	if err := w.s.Pool.QueryRow(ctx, `select coalesce(max(id), 0) from audit_log`).Scan(&before); err != nil {
		t.Fatal(err)
	}

	rented := w.rent(t, w.tokens["buyer"], "order-1")                          // ok, in its transaction
	w.rent(t, w.tokens["developer"], "order-2")                                // denied
	w.s.Do(t, "", signUpMutation, signUpInput(map[string]any{"email": "bad"})) // failed (user errors)
	w.s.Do(t, "", logInMutation, map[string]any{"input": map[string]any{"email": w.buyer.Email, "password": "wrong password"}})

	rows, err := w.s.Pool.Query(ctx, `select action, result, coalesce(target, ''), exists (select 1 from audit_log_ips i where i.audit_id = audit_log.id), request_id is not null
		from audit_log where id > $1 order by id`, before)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var action, result, target string
		var ip, req bool
		if err := rows.Scan(&action, &result, &target, &ip, &req); err != nil {
			t.Fatal(err)
		}
		if !ip || !req {
			t.Errorf("%s: ip or request id missing", action)
		}
		got = append(got, action+":"+result)
		if action == "rentConfiguration" && result == "ok" && target != str(rented.Data, "rentConfiguration", "installation", "id") {
			t.Errorf("rent target %q", target)
		}
	}
	want := []string{"rentConfiguration:ok", "rentConfiguration:denied", "signUp:failed", "logIn:failed"}
	if len(got) != len(want) {
		t.Fatalf("audit rows %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("audit rows %v, want %v", got, want)
		}
	}

	// Admins read it; nobody else does.
	res := w.s.Do(t, w.tokens["admin"], `{ auditLog(first: 10, filter: {action: "rentConfiguration"}) { nodes { action result actor role } } auditLogBrokenAt }`, nil)
	if len(get(res.Data, "auditLog", "nodes").([]any)) != 2 || get(res.Data, "auditLogBrokenAt") != nil {
		t.Fatalf("admin view: %s", res.Raw)
	}
	if r := w.s.Do(t, w.tokens["developer"], `{ auditLog { nodes { action } } }`, nil); r.Code() != "FORBIDDEN" {
		t.Fatalf("developer read the audit log: %s", r.Raw)
	}

	// Append-only for the server's role; tampering by someone who can
	// bypass the trigger breaks the chain.
	for _, sql := range []string{`update audit_log set result = 'ok'`, `delete from audit_log`} {
		if _, err := w.s.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%q allowed", sql)
		}
	}
	if _, err := w.s.Pool.Exec(ctx, `alter table audit_log disable trigger audit_log_append_only;
		update audit_log set result = 'ok' where result = 'denied';
		alter table audit_log enable trigger audit_log_append_only`); err != nil {
		t.Fatal(err)
	}
	res = w.s.Do(t, w.tokens["admin"], `{ auditLogBrokenAt }`, nil)
	if str(res.Data, "auditLogBrokenAt") == "" {
		t.Fatalf("tampering not detected: %s", res.Raw)
	}
}
