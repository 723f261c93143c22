-- Audit rows say how much money an action moved and, for the payment
-- provider's webhook events, which event it was (issue 19, item 8). Platform
-- actions (webhook events, jobs) are written with the role 'system' and no
-- actor.
--
-- The hash chain covers the new columns. cm_audit_row_text joins the fields
-- with concat_ws, which skips NULLs: the new fields are appended at the end,
-- each as one tagged segment that is NULL when the column is, so every row
-- written before this migration hashes exactly as before and the chain
-- verifies without being rewritten. The tags keep a value from passing for
-- another column's.

alter table audit_log
    add column amount_minor bigint,
    add column currency     char(3),
    add column event_id     text,
    add constraint audit_log_amount_check check ((amount_minor is null) = (currency is null)),
    add constraint audit_log_currency_check check (currency ~ '^[A-Z]{3}$'),
    add constraint audit_log_event_id_check check (event_id <> '');

create or replace function cm_audit_row_text(a audit_log) returns text language sql immutable
    return concat_ws('|', a.id, extract(epoch from a.at), a.actor_user_id, a.role, a.action, a.target, a.result, a.request_id,
        'amount=' || a.amount_minor || ' ' || a.currency,
        'event=' || a.event_id);

-- A replayed money-moving request (the same idempotency key) is audited with
-- the target its first run named: the replay does not run that code again.
alter table idempotency_keys add column audit_target text;

-- A row's id was drawn before its writer took the chain's lock: a writer
-- that drew its id and then waited could be chained after rows with higher
-- ids, and the verification, which follows the ids, reported tampering that
-- never happened. The id is now drawn under the lock, so ids follow the
-- chain. (Jobs write several rows in one statement; another writer's id
-- could fall between them.)
create or replace function cm_audit_chain() returns trigger language plpgsql as $$
begin
    perform pg_advisory_xact_lock(hashtext('configmarket:audit'));
    new.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    select hash into new.prev_hash from audit_log order by id desc limit 1;
    new.hash := sha256(coalesce(new.prev_hash, ''::bytea) || convert_to(cm_audit_row_text(new), 'UTF8'));
    return new;
end $$;
