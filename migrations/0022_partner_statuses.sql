-- Issue 19: partner statuses set by admins, with their history (item 7); a
-- customer's CRM account id kept well-formed (item 5); indexes for the pins
-- job that now also expires unanswered requests (item 6).

-- Every status a partner has had, in the order written: the status, why, the admin
-- who decided it (null where the platform itself set it: a new partner
-- starts as an agent, and the partners that existed before this history
-- began get one row for the status they had then). Payments read the
-- partner's current status; the ledger stores the rate each entry was
-- written with, so this history never changes a past entry.
create table partner_status_history (
    -- Increasing: the history's order is the order the rows were written
    -- (decided_at comes from the business clock, a new partner's first row
    -- from the database's).
    id         bigint generated always as identity primary key,
    partner_id uuid not null references partners (id),
    status     text not null constraint partner_status_history_status_check
               check (status in ('agent', 'dealer', 'integrator')),
    reason     text not null constraint partner_status_history_reason_check
               check (length(btrim(reason)) between 1 and 2000),
    decided_by uuid references users (id),
    decided_at timestamptz not null default now()
);
create index partner_status_history_partner_idx on partner_status_history (partner_id, id desc);

insert into partner_status_history (partner_id, status, reason, decided_at)
    select id, status, 'status when the history began', now() from partners;

-- The history is append-only for the server's role.
revoke update, delete on partner_status_history from cm_app;

-- A CRM account id is what the CRM sends with a license check: no blanks
-- around it, 1 to 200 characters, no control characters. Null stays
-- allowed for customers created before sign-up required it; they set it
-- once (setCrmAccountId).
alter table customers add constraint customers_crm_account_id_check check (
    crm_account_id is null
    or (length(crm_account_id) between 1 and 200
        and crm_account_id = btrim(crm_account_id)
        and crm_account_id !~ '[[:cntrl:]]'));

-- The pins job (every JOBS_INTERVAL) looks for active pins whose term ended
-- and pending requests left unanswered too long (item 6); these partial
-- indexes hold only live pins, so the look-up stays small however many
-- pins have ended.
create index pins_active_expiry_idx on pins (expires_at) where state = 'active';
create index pins_pending_request_idx on pins (requested_at) where state = 'pending';
