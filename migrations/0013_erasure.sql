-- Personal-data erasure (SPEC §9). A user may ask for its names, e-mails,
-- phones and IP history to be erased while invoices, payments and the ledger
-- stay, tied to the ids that then name no one.

alter table users add column erased_at timestamptz;

-- IP addresses are personal data, but the audit log is append-only and
-- hash-chained: an IP inside a chained row could never be erased. IPs move
-- to a side table the erasure may delete from; the chain keeps protecting
-- who did what and when. The service has not run in production yet, so the
-- existing rows are re-chained once here, without their IPs.
create table audit_log_ips (
    audit_id      bigint primary key references audit_log (id),
    actor_user_id uuid,
    ip            inet not null
);
create index audit_log_ips_actor_idx on audit_log_ips (actor_user_id) where actor_user_id is not null;

insert into audit_log_ips (audit_id, actor_user_id, ip)
    select id, actor_user_id, ip from audit_log where ip is not null;

alter table audit_log disable trigger audit_log_append_only;
drop function cm_audit_row_text(audit_log);
alter table audit_log drop column ip;

create function cm_audit_row_text(a audit_log) returns text language sql immutable
    return concat_ws('|', a.id, extract(epoch from a.at), a.actor_user_id, a.role, a.action, a.target, a.result, a.request_id);

do $$
declare
    r audit_log;
    prev bytea;
begin
    for r in select * from audit_log order by id loop
        update audit_log
            set prev_hash = prev, hash = sha256(coalesce(prev, ''::bytea) || convert_to(cm_audit_row_text(r), 'UTF8'))
            where id = r.id
            returning hash into prev;
    end loop;
end $$;

alter table audit_log enable trigger audit_log_append_only;
