-- Catalog: configurations, their versions, prices per tariff plan and reviews (SPEC §2, §3).

create table categories (
    id         uuid primary key default gen_random_uuid(),
    slug       text not null constraint categories_slug_key unique
               check (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    name       text not null check (length(name) between 1 and 100),
    position   integer not null default 0,
    created_at timestamptz not null default now()
);

create table configurations (
    id             uuid primary key default gen_random_uuid(),
    developer_id   uuid not null references developers (id),
    slug           text not null constraint configurations_slug_key unique
                   constraint configurations_slug_check check (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    title          text not null check (length(title) between 1 and 120),
    summary        text not null default '' check (length(summary) <= 300),
    description    text not null default '' check (length(description) <= 50000),
    category_id    uuid references categories (id),
    tags           text[] not null default '{}',
    screenshots    text[] not null default '{}',
    visibility     text not null default 'public'
                   constraint configurations_visibility_check check (visibility in ('public', 'unlisted', 'private')),
    sells_rent     boolean not null default true,
    sells_purchase boolean not null default false,
    support_mode   text not null default 'developer'
                   constraint configurations_support_mode_check check (support_mode in ('developer', 'platform')),
    trial_days     integer not null default 14
                   constraint configurations_trial_days_check check (trial_days between 0 and 30),
    state          text not null default 'draft'
                   constraint configurations_state_check check (state in ('draft', 'published', 'suspended', 'archived')),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    published_at   timestamptz,
    constraint configurations_sale_mode_check check (sells_rent or sells_purchase)
);
create index configurations_developer_id_idx on configurations (developer_id);
create index configurations_category_id_idx on configurations (category_id);

-- Customers a developer invited to a private configuration.
create table configuration_invites (
    configuration_id uuid not null references configurations (id),
    customer_id      uuid not null references customers (id),
    created_at       timestamptz not null default now(),
    primary key (configuration_id, customer_id)
);

create table versions (
    id               uuid primary key default gen_random_uuid(),
    configuration_id uuid not null references configurations (id),
    major            integer not null check (major >= 0),
    minor            integer not null check (minor >= 0),
    patch            integer not null check (patch >= 0),
    changelog        text not null default '' check (length(changelog) <= 20000),
    state            text not null default 'draft'
                     constraint versions_state_check check (state in ('draft', 'in_review', 'approved', 'rejected')),
    rejection_reason text,
    submitted_at     timestamptz,
    decided_at       timestamptz,
    decided_by       uuid references users (id),
    created_at       timestamptz not null default now(),
    constraint versions_number_key unique (configuration_id, major, minor, patch),
    constraint versions_rejection_reason_check check ((state = 'rejected') = (rejection_reason is not null))
);
create index versions_approved_idx on versions (configuration_id, major desc, minor desc, patch desc)
    where state = 'approved';

-- Price history: a row applies from valid_from until the next row of the same
-- configuration, kind and plan. Rows are never updated, so the price of any
-- past moment can be read back (SPEC §3).
create table prices (
    id               uuid primary key default gen_random_uuid(),
    configuration_id uuid not null references configurations (id),
    kind             text not null constraint prices_kind_check check (kind in ('rent', 'sale')),
    -- Rent is priced per tariff plan; the sale price is one for all plans.
    tariff_plan_id   uuid references tariff_plans (id),
    amount_minor     bigint not null constraint prices_amount_check check (amount_minor >= 0),
    currency         char(3) not null default 'RUB' check (currency ~ '^[A-Z]{3}$'),
    valid_from       timestamptz not null default now(),
    created_by       uuid references users (id),
    created_at       timestamptz not null default now(),
    constraint prices_plan_check check ((kind = 'rent') = (tariff_plan_id is not null)),
    constraint prices_unique unique nulls not distinct (configuration_id, kind, tariff_plan_id, valid_from)
);

create table reviews (
    id               uuid primary key default gen_random_uuid(),
    configuration_id uuid not null references configurations (id),
    customer_id      uuid not null references customers (id),
    author_user_id   uuid references users (id),
    rating           smallint not null constraint reviews_rating_check check (rating between 1 and 5),
    body             text not null default '' check (length(body) <= 5000),
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint reviews_one_per_customer unique (configuration_id, customer_id)
);
