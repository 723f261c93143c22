-- Commerce: billing periods, invoices once per period, webhook events,
-- resumable automatic updates.

alter table installations
    -- Purchases come with a full backup to download (SPEC §4).
    add column backup_ref text,
    add column canceled_at timestamptz,
    add column expired_at timestamptz,
    -- An expired trial keeps its data this long (SPEC §4: 30 days).
    add column data_retained_until timestamptz,
    -- Rental periods are counted in whole months from the anchor, so a
    -- rental begun on the 31st is billed on the last day of short months
    -- and on the 31st again after them.
    add column billing_anchor timestamptz,
    add column period_number integer not null default 0 check (period_number >= 0),
    add constraint installations_mode_state_check check (
        (mode = 'trial' and state in ('trialing', 'expired', 'canceled'))
        or (mode = 'rent' and state in ('trialing', 'active', 'past_due', 'canceled', 'expired'))
        or (mode = 'purchase' and state in ('active', 'past_due', 'canceled'))
    ),
    add constraint installations_trial_end_check check (mode <> 'trial' or trial_ends_at is not null),
    add constraint installations_rent_period_check check (mode <> 'rent' or current_period_start is not null);

create index installations_customer_idx on installations (customer_id, created_at desc, id desc);
create index installations_billing_idx on installations (current_period_end) where mode = 'rent' and state in ('active', 'past_due');
create index installations_trials_idx on installations (trial_ends_at) where state = 'trialing';

alter table invoices
    add column configuration_id uuid references configurations (id),
    add column tariff_plan_id uuid references tariff_plans (id),
    add column voided_at timestamptz,
    drop constraint invoices_check,
    add constraint invoices_paid_check check ((state = 'paid') = (paid_at is not null)),
    -- A billing job run twice, or by two instances, issues a period once.
    add constraint invoices_one_per_period unique (installation_id, period_start);
create index invoices_open_idx on invoices (issued_at) where state = 'open';

-- The provider's events, each applied once: a replay finds its row here.
create table provider_events (
    provider    text not null,
    event_id    text not null check (length(event_id) between 1 and 200),
    type        text not null,
    received_at timestamptz not null default now(),
    primary key (provider, event_id)
);

-- An approval queues the move of every auto-updating installation to the
-- new version; workers take it in small batches and may die mid-way: the
-- job stays pending until no installation is left behind.
create table update_jobs (
    version_id       uuid primary key references versions (id),
    configuration_id uuid not null references configurations (id),
    created_at       timestamptz not null default now(),
    finished_at      timestamptz,
    moved            integer not null default 0
);
create index update_jobs_pending_idx on update_jobs (created_at) where finished_at is null;
