-- Earnings: rates, the ledger, pins, payouts (SPEC §5–§8) and the audit log (§9).

-- Rates are data with history: a payment uses the row in force at its time.
-- Rates are stored in hundredths of a percent (3500 = 35%).
create table developer_rates (
    id               uuid primary key default gen_random_uuid(),
    developer_status text not null check (developer_status in ('basic', 'standard', 'premium')),
    support_mode     text not null check (support_mode in ('developer', 'platform')),
    rate             integer not null constraint developer_rates_rate_check check (rate between 0 and 10000),
    valid_from       timestamptz not null default now(),
    created_by       uuid references users (id),
    constraint developer_rates_unique unique (developer_status, support_mode, valid_from)
);

create table partner_rates (
    id             uuid primary key default gen_random_uuid(),
    partner_status text not null check (partner_status in ('agent', 'dealer', 'integrator')),
    paid_for       text not null check (paid_for in ('rent', 'purchase', 'plan', 'services')),
    rate           integer not null constraint partner_rates_rate_check check (rate between 0 and 10000),
    valid_from     timestamptz not null default now(),
    created_by     uuid references users (id),
    constraint partner_rates_unique unique (partner_status, paid_for, valid_from)
);

-- The defaults of SPEC §5, in force since the beginning of time.
insert into developer_rates (developer_status, support_mode, rate, valid_from) values
    ('basic', 'developer', 3500, '-infinity'), ('basic', 'platform', 2500, '-infinity'),
    ('standard', 'developer', 5000, '-infinity'), ('standard', 'platform', 2500, '-infinity'),
    ('premium', 'developer', 7500, '-infinity'), ('premium', 'platform', 2500, '-infinity');

insert into partner_rates (partner_status, paid_for, rate, valid_from) values
    ('agent', 'rent', 1000, '-infinity'), ('dealer', 'rent', 2500, '-infinity'), ('integrator', 'rent', 5000, '-infinity'),
    ('agent', 'purchase', 1000, '-infinity'), ('dealer', 'purchase', 2000, '-infinity'), ('integrator', 'purchase', 3000, '-infinity'),
    ('agent', 'plan', 1000, '-infinity'), ('dealer', 'plan', 2500, '-infinity'), ('integrator', 'plan', 5000, '-infinity'),
    ('agent', 'services', 1000, '-infinity'), ('dealer', 'services', 1000, '-infinity'), ('integrator', 'services', 1000, '-infinity');

create table pins (
    id           uuid primary key default gen_random_uuid(),
    partner_id   uuid not null references partners (id),
    customer_id  uuid not null references customers (id),
    state        text not null constraint pins_state_check
                 check (state in ('pending', 'active', 'declined', 'expired', 'refused', 'released')),
    requested_at timestamptz not null default now(),
    starts_at    timestamptz,
    expires_at   timestamptz,
    decided_at   timestamptz,
    check ((state = 'active') <= (starts_at is not null and expires_at is not null))
);
-- At most one live (pending or active) pin per customer: two partners racing
-- for the same customer cannot both win.
create unique index pins_one_live_per_customer on pins (customer_id) where state in ('pending', 'active');
create index pins_partner_id_idx on pins (partner_id, requested_at);

-- Append-only. Each row is one party's share of one payment or refund; the
-- rows of one payment sum to its amount.
create table ledger_entries (
    id           bigint generated always as identity primary key,
    payment_id   uuid not null references payments (id),
    refund_id    uuid references refunds (id),
    party        text not null constraint ledger_entries_party_check check (party in ('developer', 'partner', 'platform')),
    developer_id uuid references developers (id),
    partner_id   uuid references partners (id),
    amount_minor bigint not null,
    currency     char(3) not null check (currency ~ '^[A-Z]{3}$'),
    rate         integer check (rate between 0 and 10000),
    created_at   timestamptz not null default now(),
    constraint ledger_entries_party_id_check check (
        (party = 'developer') = (developer_id is not null)
        and (party = 'partner') = (partner_id is not null)
    )
);
create index ledger_entries_payment_id_idx on ledger_entries (payment_id);
create index ledger_entries_developer_idx on ledger_entries (developer_id, created_at) where developer_id is not null;
create index ledger_entries_partner_idx on ledger_entries (partner_id, created_at) where partner_id is not null;

create table payouts (
    id           uuid primary key default gen_random_uuid(),
    party        text not null check (party in ('developer', 'partner')),
    developer_id uuid references developers (id),
    partner_id   uuid references partners (id),
    amount_minor bigint not null constraint payouts_amount_check check (amount_minor > 0),
    currency     char(3) not null default 'RUB' check (currency ~ '^[A-Z]{3}$'),
    method       text not null constraint payouts_method_check check (method in ('e_wallet', 'bank_card', 'bank_account')),
    state        text not null default 'requested' constraint payouts_state_check check (state in ('requested', 'paid', 'failed')),
    requested_by uuid references users (id),
    requested_at timestamptz not null default now(),
    decided_at   timestamptz,
    constraint payouts_party_id_check check (
        (party = 'developer') = (developer_id is not null)
        and (party = 'partner') = (partner_id is not null)
    )
);
create index payouts_developer_idx on payouts (developer_id, requested_at) where developer_id is not null;
create index payouts_partner_idx on payouts (partner_id, requested_at) where partner_id is not null;

create table audit_log (
    id              bigint generated always as identity primary key,
    at              timestamptz not null default now(),
    actor_user_id   uuid,
    role            text,
    action          text not null,
    target          text,
    result          text not null check (result in ('ok', 'denied', 'failed')),
    ip              inet,
    request_id      text
);
create index audit_log_at_idx on audit_log (at, id);
