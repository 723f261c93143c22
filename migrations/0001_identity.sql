-- Identity: tariff plans, the CRM accounts (customers), developers, partners,
-- the humans who log in (users), the roles they hold and their sessions.

create table tariff_plans (
    id                  uuid primary key default gen_random_uuid(),
    code                text not null constraint tariff_plans_code_key unique
                        constraint tariff_plans_code_check check (code ~ '^[A-Z]$'),
    name                text not null check (length(name) between 1 and 100),
    max_users           integer not null check (max_users > 0),
    monthly_price_minor bigint not null check (monthly_price_minor >= 0),
    currency            char(3) not null default 'RUB' check (currency ~ '^[A-Z]{3}$'),
    is_default          boolean not null default false,
    created_at          timestamptz not null default now()
);
-- Exactly one plan is the default for new customers.
create unique index tariff_plans_one_default on tariff_plans (is_default) where is_default;

create table users (
    id            uuid primary key default gen_random_uuid(),
    -- Stored lower-cased so the unique constraint is case-insensitive.
    email         text not null constraint users_email_key unique
                  constraint users_email_check check (email = lower(email) and email like '%_@_%'),
    password_hash text not null,
    name          text not null check (length(name) between 1 and 200),
    phone         text,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);

-- A customer is a CRM account (a company), not a person.
create table customers (
    id             uuid primary key default gen_random_uuid(),
    name           text not null check (length(name) between 1 and 200),
    -- Russian tax number: 10 digits for companies, 12 for individuals.
    inn            text constraint customers_inn_key unique
                   constraint customers_inn_check check (inn ~ '^[0-9]{10}([0-9]{2})?$'),
    crm_account_id text constraint customers_crm_account_id_key unique,
    tariff_plan_id uuid not null references tariff_plans (id),
    created_at     timestamptz not null default now()
);
create index customers_tariff_plan_id_idx on customers (tariff_plan_id);

create table developers (
    id                    uuid primary key default gen_random_uuid(),
    slug                  text not null constraint developers_slug_key unique
                          constraint developers_slug_check check (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    name                  text not null check (length(name) between 1 and 200),
    bio                   text not null default '' check (length(bio) <= 5000),
    website               text,
    status                text not null default 'basic'
                          constraint developers_status_check check (status in ('basic', 'standard', 'premium')),
    -- Admin-set flags that gate the standard status (SPEC §6).
    knowledge_test_passed boolean not null default false,
    website_info          boolean not null default false,
    contract_signed       boolean not null default false,
    created_at            timestamptz not null default now()
);

create table partners (
    id         uuid primary key default gen_random_uuid(),
    name       text not null check (length(name) between 1 and 200),
    inn        text constraint partners_inn_key unique
               constraint partners_inn_check check (inn ~ '^[0-9]{10}([0-9]{2})?$'),
    website    text,
    status     text not null default 'agent'
               constraint partners_status_check check (status in ('agent', 'dealer', 'integrator')),
    created_at timestamptz not null default now()
);

-- One human may hold several roles (a developer who is also a partner); each
-- grant names the organisation the role acts for. Admin acts for the platform.
create table role_grants (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id) on delete cascade,
    role         text not null constraint role_grants_role_check
                 check (role in ('customer', 'developer', 'partner', 'admin')),
    customer_id  uuid references customers (id),
    developer_id uuid references developers (id),
    partner_id   uuid references partners (id),
    acting_for   uuid generated always as (coalesce(customer_id, developer_id, partner_id)) stored,
    created_at   timestamptz not null default now(),
    constraint role_grants_subject_check check (
        (role = 'customer') = (customer_id is not null)
        and (role = 'developer') = (developer_id is not null)
        and (role = 'partner') = (partner_id is not null)
    ),
    constraint role_grants_unique unique nulls not distinct (user_id, role, acting_for)
);
create index role_grants_customer_id_idx on role_grants (customer_id) where customer_id is not null;
create index role_grants_developer_id_idx on role_grants (developer_id) where developer_id is not null;
create index role_grants_partner_id_idx on role_grants (partner_id) where partner_id is not null;

-- A session is one login in one role; access tokens name it (sid) so that a
-- logout, a password change or a role change revokes them at once.
create table auth_sessions (
    id            uuid primary key default gen_random_uuid(),
    user_id       uuid not null references users (id) on delete cascade,
    role          text not null check (role in ('customer', 'developer', 'partner', 'admin')),
    acting_for    uuid,
    created_at    timestamptz not null default now(),
    expires_at    timestamptz not null,
    revoked_at    timestamptz,
    revoke_reason text check (revoke_reason in ('logout', 'refresh_reuse', 'password_change', 'role_change', 'erasure', 'admin')),
    ip            inet,
    user_agent    text,
    check ((revoked_at is null) = (revoke_reason is null))
);
create index auth_sessions_user_id_idx on auth_sessions (user_id) where revoked_at is null;

-- Refresh tokens rotate: each use marks the token used and issues the next
-- one in the same session; a used token presented again revokes the session.
-- Only a SHA-256 of the token is stored.
create table refresh_tokens (
    token_hash bytea primary key check (length(token_hash) = 32),
    session_id uuid not null references auth_sessions (id) on delete cascade,
    issued_at  timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz
);
create index refresh_tokens_session_id_idx on refresh_tokens (session_id);

-- The plans of SPEC §3. B is the most common plan, so new customers start on it.
insert into tariff_plans (code, name, max_users, monthly_price_minor, currency, is_default) values
    ('A', 'Up to 3 users', 3, 150000, 'RUB', false),
    ('B', 'Up to 10 users', 10, 450000, 'RUB', true),
    ('C', 'Up to 30 users', 30, 1200000, 'RUB', false),
    ('D', 'Up to 100 users', 100, 3500000, 'RUB', false);
