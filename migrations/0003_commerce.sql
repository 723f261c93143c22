-- Commerce: installations, trials, invoices, payments (SPEC §4, §5).

-- One trial per customer per configuration, ever: a row here is never deleted,
-- whatever happens to the installation afterwards.
create table trials (
    customer_id      uuid not null references customers (id),
    configuration_id uuid not null references configurations (id),
    started_at       timestamptz not null default now(),
    ends_at          timestamptz not null,
    constraint trials_once_per_customer primary key (customer_id, configuration_id),
    check (ends_at > started_at)
);

create table installations (
    id                   uuid primary key default gen_random_uuid(),
    customer_id          uuid not null references customers (id),
    configuration_id     uuid not null references configurations (id),
    mode                 text not null constraint installations_mode_check check (mode in ('trial', 'rent', 'purchase')),
    state                text not null constraint installations_state_check
                         check (state in ('trialing', 'active', 'past_due', 'canceled', 'expired')),
    version_id           uuid not null references versions (id),
    -- Trials and rentals follow every approved version; a purchase never moves.
    auto_update          boolean not null generated always as (mode <> 'purchase') stored,
    license_key          text not null constraint installations_license_key_key unique,
    trial_ends_at        timestamptz,
    current_period_start timestamptz,
    current_period_end   timestamptz,
    cancel_at_period_end boolean not null default false,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    constraint installations_one_per_customer unique (customer_id, configuration_id),
    check (current_period_end is null or current_period_end > current_period_start)
);
create index installations_configuration_id_idx on installations (configuration_id, state);

create table installation_updates (
    id              uuid primary key default gen_random_uuid(),
    installation_id uuid not null references installations (id),
    from_version_id uuid not null references versions (id),
    to_version_id   uuid not null references versions (id),
    updated_at      timestamptz not null default now(),
    check (from_version_id <> to_version_id)
);
create index installation_updates_installation_id_idx on installation_updates (installation_id, updated_at);

create table invoices (
    id              uuid primary key default gen_random_uuid(),
    customer_id     uuid not null references customers (id),
    installation_id uuid references installations (id),
    -- What was paid for decides the partner rate (SPEC §5).
    paid_for        text not null constraint invoices_paid_for_check check (paid_for in ('rent', 'purchase', 'plan', 'services')),
    amount_minor    bigint not null constraint invoices_amount_check check (amount_minor >= 0),
    currency        char(3) not null default 'RUB' check (currency ~ '^[A-Z]{3}$'),
    period_start    timestamptz,
    period_end      timestamptz,
    state           text not null default 'open' constraint invoices_state_check check (state in ('open', 'paid', 'void')),
    issued_at       timestamptz not null default now(),
    paid_at         timestamptz,
    check ((state = 'paid') = (paid_at is not null)),
    check (period_end is null or period_end > period_start)
);
create index invoices_customer_id_idx on invoices (customer_id, issued_at);
create index invoices_installation_id_idx on invoices (installation_id);

create table payments (
    id                  uuid primary key default gen_random_uuid(),
    customer_id         uuid not null references customers (id),
    invoice_id          uuid references invoices (id),
    configuration_id    uuid references configurations (id),
    paid_for            text not null constraint payments_paid_for_check check (paid_for in ('rent', 'purchase', 'plan', 'services')),
    amount_minor        bigint not null constraint payments_amount_check check (amount_minor > 0),
    currency            char(3) not null default 'RUB' check (currency ~ '^[A-Z]{3}$'),
    -- A provider's event applies once (SPEC §5); manual payments have provider 'manual'.
    provider            text not null,
    provider_payment_id text not null,
    recorded_by         uuid references users (id),
    received_at         timestamptz not null default now(),
    constraint payments_provider_key unique (provider, provider_payment_id)
);
create index payments_customer_id_idx on payments (customer_id, received_at);
create index payments_configuration_id_idx on payments (configuration_id, received_at);

create table refunds (
    id           uuid primary key default gen_random_uuid(),
    payment_id   uuid not null references payments (id),
    amount_minor bigint not null constraint refunds_amount_check check (amount_minor > 0),
    currency     char(3) not null default 'RUB' check (currency ~ '^[A-Z]{3}$'),
    reason       text not null default '',
    recorded_by  uuid references users (id),
    created_at   timestamptz not null default now()
);
create index refunds_payment_id_idx on refunds (payment_id);

-- A repeated money-moving request with the same key returns the first result.
create table idempotency_keys (
    user_id      uuid not null references users (id),
    key          text not null check (length(key) between 1 and 200),
    operation    text not null,
    request_hash bytea not null,
    response     jsonb,
    created_at   timestamptz not null default now(),
    primary key (user_id, key)
);
