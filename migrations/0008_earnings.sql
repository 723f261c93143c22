-- Earnings: pin history, developer status history, payout failures.

alter table pins
    add column requested_by uuid references users (id),
    -- The CRM account the partner named, for the customer's own view.
    add column requested_via text check (requested_via in ('inn', 'crm_account_id')),
    add column reason text;

-- Every step of a pin: requested, confirmed, declined, renewed, refused, expired.
create table pin_events (
    id         uuid primary key default gen_random_uuid(),
    pin_id     uuid not null references pins (id),
    action     text not null check (action in ('requested', 'activated', 'confirmed', 'declined', 'renewed', 'refused', 'expired')),
    actor      uuid references users (id),
    reason     text,
    expires_at timestamptz,
    created_at timestamptz not null default now()
);
create index pin_events_pin_idx on pin_events (pin_id, created_at);

-- A developer's status over time; payments read the current status, and
-- the history says when each applied.
create table developer_status_history (
    id           uuid primary key default gen_random_uuid(),
    developer_id uuid not null references developers (id),
    status       text not null check (status in ('basic', 'standard', 'premium')),
    -- Sales of the developer's configurations in the calendar month the
    -- decision was based on, and that month's first day.
    sales_minor  bigint not null default 0,
    sales_month  date,
    reason       text not null,
    decided_at   timestamptz not null default now()
);
create index developer_status_history_idx on developer_status_history (developer_id, decided_at);

alter table payouts
    add column failure_reason text,
    add constraint payouts_decided_check check ((state = 'requested') = (decided_at is null));
create index ledger_entries_occurred_idx on ledger_entries (occurred_at);
