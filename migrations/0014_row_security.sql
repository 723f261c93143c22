-- Defence in depth for money data (issue 7): the server connects as cm_app,
-- a role that owns no table and cannot bypass row-level security, and each
-- transaction that touches the ledger or payouts names its subject with
-- set_config('cm.subject', ..., true). A bug in an application check then
-- still cannot hand one party another party's money rows. Statements
-- (monthly, per party) are read from these two tables, so they are covered.
--
-- Subjects: 'system' (jobs, the payment provider's signed webhook),
-- 'admin', 'developer:<uuid>', 'partner:<uuid>', 'customer:<uuid>'; no
-- subject sees nothing.

do $$
begin
    if not exists (select from pg_roles where rolname = 'cm_app') then
        -- Needs CREATEROLE; where the migrating user lacks it, the operator
        -- creates the role first (see README).
        create role cm_app login;
    end if;
end $$;

grant usage on schema public to cm_app;
grant select, insert, update, delete on all tables in schema public to cm_app;
grant usage, select on all sequences in schema public to cm_app;
alter default privileges in schema public grant select, insert, update, delete on tables to cm_app;
alter default privileges in schema public grant usage, select on sequences to cm_app;
-- Migrations are the owner's business; the append-only tables get no
-- update or delete at all.
revoke all on schema_version from cm_app;
revoke update, delete on ledger_entries, audit_log from cm_app;
revoke update on audit_log_ips from cm_app;
revoke delete on payouts from cm_app;

-- Policies call these inside scalar subqueries, (select cm_subject_kind()),
-- so they run once per statement as init plans, not once per row.
create function cm_subject_kind() returns text language sql stable
    return split_part(coalesce(current_setting('cm.subject', true), ''), ':', 1);

create function cm_subject_id() returns uuid language sql stable
    return nullif(split_part(coalesce(current_setting('cm.subject', true), ''), ':', 2), '')::uuid;

alter table ledger_entries enable row level security;

create policy ledger_entries_read on ledger_entries for select to cm_app using (
    (select cm_subject_kind()) in ('system', 'admin')
    or ((select cm_subject_kind()) = 'developer' and developer_id = (select cm_subject_id()))
    or ((select cm_subject_kind()) = 'partner' and partner_id = (select cm_subject_id())));

-- Entries come from payments and refunds, which only the platform records.
create policy ledger_entries_write on ledger_entries for insert to cm_app
    with check ((select cm_subject_kind()) in ('system', 'admin'));

alter table payouts enable row level security;

create policy payouts_read on payouts for select to cm_app using (
    (select cm_subject_kind()) in ('system', 'admin')
    or ((select cm_subject_kind()) = 'developer' and developer_id = (select cm_subject_id()))
    or ((select cm_subject_kind()) = 'partner' and partner_id = (select cm_subject_id())));

-- A party requests payouts of its own balance.
create policy payouts_request on payouts for insert to cm_app with check (
    (select cm_subject_kind()) in ('system', 'admin')
    or ((select cm_subject_kind()) = 'developer' and developer_id = (select cm_subject_id()))
    or ((select cm_subject_kind()) = 'partner' and partner_id = (select cm_subject_id())));

-- Only the platform decides them.
create policy payouts_decide on payouts for update to cm_app
    using ((select cm_subject_kind()) in ('system', 'admin'))
    with check ((select cm_subject_kind()) in ('system', 'admin'));
