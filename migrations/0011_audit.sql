-- The audit log: append-only and hash-chained. Each row's hash covers its
-- fields and the previous row's hash, so changing or deleting any row
-- breaks every hash after it.

alter table audit_log
    add column prev_hash bytea,
    add column hash bytea;

create function cm_append_only() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only', tg_table_name using errcode = 'insufficient_privilege';
end $$;

create trigger audit_log_append_only before update or delete or truncate on audit_log
    for each statement execute function cm_append_only();

create function cm_audit_row_text(a audit_log) returns text language sql immutable
    return concat_ws('|', a.id, extract(epoch from a.at), a.actor_user_id, a.role, a.action, a.target, a.result, host(a.ip), a.request_id);

-- Rows are chained one at a time: the lock orders concurrent writers, and
-- is held to their commit.
create function cm_audit_chain() returns trigger language plpgsql as $$
begin
    perform pg_advisory_xact_lock(hashtext('configmarket:audit'));
    select hash into new.prev_hash from audit_log order by id desc limit 1;
    new.hash := sha256(coalesce(new.prev_hash, ''::bytea) || convert_to(cm_audit_row_text(new), 'UTF8'));
    return new;
end $$;

create trigger audit_log_chain before insert on audit_log
    for each row execute function cm_audit_chain();
