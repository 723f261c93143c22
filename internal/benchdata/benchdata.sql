-- The benchmark marketplace, generated in set-based SQL. Every value is a
-- function of a row number (hashint8extended with a fixed seed), so two
-- loads of the same sizes on the same day are identical. Sizes come from
-- transaction-local settings bench.*; times count back from bench.anchor.
-- Steps are separated by "-- step: <name>" lines; Go runs them one by one
-- in one transaction and times them.

-- step: helpers
-- Session-local helpers (pg_temp): nothing is added to the schema.
create or replace function pg_temp.bid(kind text, n bigint) returns uuid
    language sql immutable return md5(kind || ':' || n)::uuid;
-- A uniform number in [0, 1) for row n and salt s.
create or replace function pg_temp.u(n bigint, s bigint) returns float8
    language sql immutable return (hashint8extended(n, s) & 2147483647)::float8 / 2147483648.0;
create or replace function pg_temp.size(name text) returns bigint
    language sql stable return current_setting('bench.' || name)::bigint;
create or replace function pg_temp.anchor() returns timestamptz
    language sql stable return current_setting('bench.anchor')::timestamptz;
-- Rent per month on plan B in kopecks (200.00–990.00); other plans scale it.
create or replace function pg_temp.rent(c bigint, plan text) returns bigint
    language sql immutable return (20000 + (c * 37 % 80) * 1000) * case plan when 'A' then 6 when 'B' then 10 when 'C' then 20 else 40 end / 10;
create or replace function pg_temp.sale(c bigint) returns bigint
    language sql immutable return (20000 + (c * 37 % 80) * 1000) * 70;
create or replace function pg_temp.plan(i bigint) returns text
    language sql immutable return case when pg_temp.u(i, 11) < 0.2 then 'A' when pg_temp.u(i, 11) < 0.7 then 'B'
        when pg_temp.u(i, 11) < 0.9 then 'C' else 'D' end;
-- Configurations past this index are drafts: nobody installs them.
create or replace function pg_temp.installable() returns bigint
    language sql stable return pg_temp.size('configurations') - pg_temp.size('configurations') * 3 / 100;
-- Customers past this index have no installations and no pin: the
-- mutation scenario starts its trials there.
create or replace function pg_temp.settled() returns bigint
    language sql stable return pg_temp.size('customers') - pg_temp.size('fresh_customers');

-- step: categories
insert into categories (id, slug, name, position)
select pg_temp.bid('category', g), 'bench-' || (array['sales', 'warehouse', 'accounting', 'hr', 'projects', 'service',
        'marketing', 'delivery', 'purchasing', 'contracts', 'education', 'medicine'])[g + 1],
    (array['Продажи', 'Склад', 'Бухгалтерия', 'Кадры', 'Проекты', 'Сервис',
        'Marketing', 'Delivery', 'Purchasing', 'Contracts', 'Education', 'Medicine'])[g + 1], g
from generate_series(0, 11) g;

-- step: users
insert into users (id, email, password_hash, name, created_at)
select pg_temp.bid('user-' || kind, g), kind || '-' || g || '@bench.test', current_setting('bench.password_hash'),
    initcap(kind) || ' ' || g, pg_temp.anchor() - interval '800 days'
from (values ('customer', pg_temp.size('customers')), ('developer', pg_temp.size('developers')),
        ('partner', pg_temp.size('partners')), ('admin', pg_temp.size('admins'))) k(kind, n),
    generate_series(0, n - 1) g;

-- step: organisations
insert into customers (id, name, inn, crm_account_id, tariff_plan_id, created_at)
select pg_temp.bid('customer', g),
    case when g % 2 = 0 then 'ООО «Клиент ' || g || '»' else 'Client ' || g || ' LLC' end,
    (7700000000 + g)::text, 'crm-' || g, t.id, pg_temp.anchor() - interval '800 days' + g * interval '1 minute'
from generate_series(0, pg_temp.size('customers') - 1) g
join tariff_plans t on t.code = pg_temp.plan(g);

insert into developers (id, slug, name, bio, website, status, knowledge_test_passed, website_info, contract_signed, created_at)
select pg_temp.bid('developer', g), 'bench-dev-' || g,
    case when g % 2 = 0 then 'Студия ' || g else 'Studio ' || g end,
    case when g % 2 = 0 then 'Разрабатываем решения для CRM с 2015 года.' else 'Building CRM solutions since 2015.' end,
    'https://dev-' || g || '.example', s.status, s.status <> 'basic', s.status <> 'basic', s.status <> 'basic',
    pg_temp.anchor() - interval '900 days'
from generate_series(0, pg_temp.size('developers') - 1) g
cross join lateral (select case when pg_temp.u(g, 21) < 0.5 then 'basic' when pg_temp.u(g, 21) < 0.8 then 'standard'
    else 'premium' end as status) s;

insert into partners (id, name, inn, website, status, created_at)
select pg_temp.bid('partner', g), 'Partner ' || g, (5500000000 + g)::text, 'https://partner-' || g || '.example',
    (array['agent', 'dealer', 'integrator'])[g % 3 + 1], pg_temp.anchor() - interval '800 days'
from generate_series(0, pg_temp.size('partners') - 1) g;

insert into role_grants (user_id, role, customer_id, developer_id, partner_id)
select pg_temp.bid('user-' || kind, g), case when kind = 'admin' then 'admin' else kind end,
    case when kind = 'customer' then pg_temp.bid('customer', g) end,
    case when kind = 'developer' then pg_temp.bid('developer', g) end,
    case when kind = 'partner' then pg_temp.bid('partner', g) end
from (values ('customer', pg_temp.size('customers')), ('developer', pg_temp.size('developers')),
        ('partner', pg_temp.size('partners')), ('admin', pg_temp.size('admins'))) k(kind, n),
    generate_series(0, n - 1) g;

-- step: configurations
-- Even configurations are Russian, odd ones English; titles are unique.
insert into configurations (id, developer_id, slug, title, summary, description, category_id, tags, visibility,
    sells_rent, sells_purchase, support_mode, trial_days, state, created_at, updated_at, published_at)
select pg_temp.bid('configuration', c), pg_temp.bid('developer', c % pg_temp.size('developers')), 'bench-' || c,
    case when c % 2 = 0
        then (array['Воронка продаж', 'Складской учёт', 'Бухгалтерия', 'Кадровый учёт', 'Управление проектами',
            'Сервисные заявки', 'Маркетинговые кампании', 'Доставка', 'Закупки', 'Договоры', 'Учебный центр', 'Клиника'])[c % 12 + 1]
            || ' ' || (array['для малого бизнеса', 'Про', 'Плюс', 'Экспресс', 'для розницы', 'для производства'])[c / 12 % 6 + 1]
            || ' №' || c
        else (array['Sales pipeline', 'Warehouse', 'Accounting', 'HR records', 'Project management', 'Service desk',
            'Marketing campaigns', 'Delivery', 'Purchasing', 'Contracts', 'Training centre', 'Clinic'])[c % 12 + 1]
            || ' ' || (array['for small business', 'Pro', 'Plus', 'Express', 'for retail', 'for manufacturing'])[c / 12 % 6 + 1]
            || ' #' || c end,
    case when c % 2 = 0
        then 'Готовое решение: сделки, клиенты, задачи и отчёты. Настраивается за один день.'
        else 'A ready-made solution: deals, customers, tasks and reports. Set up in one day.' end,
    repeat(case when c % 2 = 0 then 'Подробное описание возможностей, настройки и интеграций. '
        else 'A detailed description of features, setup and integrations. ' end, 20),
    pg_temp.bid('category', c % 12),
    array[(array['crm', 'sales', 'b2b', 'retail', 'finance', 'hr', 'tasks', 'reports'])[c % 8 + 1],
        (array['продажи', 'склад', 'отчёты', 'клиенты', 'задачи'])[c % 5 + 1], 'bench'],
    case when c % 30 = 7 then 'unlisted' when c % 30 = 13 then 'private' else 'public' end,
    c % 10 <> 3, c % 3 = 0 or c % 10 = 3, case when c % 10 < 7 then 'developer' else 'platform' end,
    case when c % 5 = 0 then 0 else 14 end,
    case when c >= pg_temp.installable() then 'draft' when c % 100 = 41 then 'suspended' when c % 100 = 59 then 'archived'
        else 'published' end,
    pg_temp.anchor() - interval '700 days' + c * interval '1 minute', pg_temp.anchor() - interval '10 days',
    case when c < pg_temp.installable() then pg_temp.anchor() - interval '690 days' + c * interval '1 minute' end
from generate_series(0, pg_temp.size('configurations') - 1) c;

-- step: versions
-- 1.0.0 … 1.(n-1).0 per configuration, approved (drafts: still draft).
insert into versions (id, configuration_id, major, minor, patch, changelog, state, submitted_at, decided_at, created_at)
select pg_temp.bid('version', c * 1000 + m), pg_temp.bid('configuration', c), 1, m, 0,
    case when c % 2 = 0 then 'Исправления и улучшения ' || m else 'Fixes and improvements ' || m end,
    case when c >= pg_temp.installable() then 'draft' else 'approved' end,
    case when c < pg_temp.installable() then pg_temp.anchor() - interval '690 days' + m * interval '30 days' end,
    case when c < pg_temp.installable() then pg_temp.anchor() - interval '689 days' + m * interval '30 days' end,
    pg_temp.anchor() - interval '690 days' + m * interval '30 days'
from generate_series(0, pg_temp.size('configurations') - 1) c, generate_series(0, pg_temp.size('versions_per_configuration') - 1) m;

-- step: prices
-- Rent on every plan for configurations that rent, a sale price for those
-- that sell.
insert into prices (configuration_id, kind, tariff_plan_id, amount_minor, valid_from)
select pg_temp.bid('configuration', c), 'rent', t.id, pg_temp.rent(c, t.code), pg_temp.anchor() - interval '700 days'
from generate_series(0, pg_temp.size('configurations') - 1) c cross join tariff_plans t
where c % 10 <> 3
union all
select pg_temp.bid('configuration', c), 'sale', null, pg_temp.sale(c), pg_temp.anchor() - interval '700 days'
from generate_series(0, pg_temp.size('configurations') - 1) c
where c % 3 = 0 or c % 10 = 3;

-- step: installations
-- Customer i's k-th installation: popularity is skewed towards a few
-- configurations (u³), and k steps by a prime so one customer's picks are
-- distinct. Trials 15 %, rent 60 %, purchase 25 % (as the configuration sells).
create temporary table bench_installations on commit drop as
select g, i, c, mode,
    case mode
        when 'trial' then case when pg_temp.u(g, 32) < 0.3 then 'trialing' else 'expired' end
        when 'rent' then case when pg_temp.u(g, 32) < 0.85 then 'active' when pg_temp.u(g, 32) < 0.9 then 'past_due'
            else 'canceled' end
        else 'active' end as state,
    pg_temp.anchor() - interval '30 days' - pg_temp.u(g, 33) * interval '330 days' as created_at
from (
    select g, i, c, case
            when m = 'purchase' and not (c % 3 = 0 or c % 10 = 3) then 'rent'
            when m = 'rent' and c % 10 = 3 then 'purchase'
            else m end as mode
    from (
        select g, g % pg_temp.settled() as i,
            (floor(pg_temp.installable() * pg_temp.u(g % pg_temp.settled(), 31) ^ 3)::bigint
                + (g / pg_temp.settled()) * 7919) % pg_temp.installable() as c,
            case when pg_temp.u(g, 30) < 0.15 then 'trial' when pg_temp.u(g, 30) < 0.75 then 'rent' else 'purchase' end as m
        from generate_series(0, pg_temp.size('installations') - 1) g
    ) picked
) moded;

insert into installations (id, customer_id, configuration_id, mode, state, version_id, license_key, trial_ends_at,
    current_period_start, current_period_end, billing_anchor, period_number, backup_ref, canceled_at, expired_at,
    data_retained_until, created_at, updated_at)
select pg_temp.bid('installation', g), pg_temp.bid('customer', i), pg_temp.bid('configuration', c), mode, state,
    -- Trials and rentals follow the current version; a purchase stays where it was bought.
    pg_temp.bid('version', c * 1000 + case when mode = 'purchase'
        then floor(pg_temp.u(g, 34) * pg_temp.size('versions_per_configuration'))::bigint
        else pg_temp.size('versions_per_configuration') - 1 end),
    'bench-' || g,
    case when mode = 'trial' then created_at + interval '14 days' end,
    case when mode = 'rent' then pg_temp.anchor() - pg_temp.u(g, 35) * interval '29 days' end,
    case when mode = 'rent' then pg_temp.anchor() - pg_temp.u(g, 35) * interval '29 days' + interval '1 month' end,
    case when mode = 'rent' then created_at end,
    case when mode = 'rent' then greatest(0, extract(month from age(pg_temp.anchor(), created_at))::int) else 0 end,
    case when mode = 'purchase' then 'backups/bench-' || g end,
    case when state = 'canceled' then pg_temp.anchor() - interval '5 days' end,
    case when state = 'expired' then created_at + interval '14 days' end,
    case when state = 'expired' then created_at + interval '44 days' end,
    created_at, created_at
from bench_installations
on conflict do nothing;

insert into trials (customer_id, configuration_id, started_at, ends_at)
select pg_temp.bid('customer', i), pg_temp.bid('configuration', c), created_at, created_at + interval '14 days'
from bench_installations b
where mode = 'trial' and exists (select 1 from installations x where x.id = pg_temp.bid('installation', b.g))
on conflict do nothing;

-- A private configuration's customers were invited to it.
insert into configuration_invites (configuration_id, customer_id, created_at)
select distinct pg_temp.bid('configuration', c), pg_temp.bid('customer', i), min(created_at) over (partition by c, i)
from bench_installations where c % 30 = 13
on conflict do nothing;

-- step: reviews
insert into reviews (configuration_id, customer_id, author_user_id, rating, body, created_at, updated_at)
select pg_temp.bid('configuration', c), pg_temp.bid('customer', i), pg_temp.bid('user-customer', i),
    case when pg_temp.u(g, 41) < 0.05 then 1 when pg_temp.u(g, 41) < 0.1 then 2 when pg_temp.u(g, 41) < 0.25 then 3
        when pg_temp.u(g, 41) < 0.6 then 4 else 5 end,
    case when c % 2 = 0 then 'Пользуемся полгода, всё работает.' else 'We have used it for half a year; it works.' end,
    created_at + interval '7 days', created_at + interval '7 days'
from bench_installations b
where pg_temp.u(g, 40) < 0.25 and exists (select 1 from installations x where x.id = pg_temp.bid('installation', b.g))
on conflict do nothing;

-- step: pins
-- 40 % of the settled customers are pinned to a partner, from some day in
-- the past year to beyond the anchor (renewed pins).
insert into pins (id, partner_id, customer_id, state, requested_at, starts_at, expires_at, decided_at, requested_via)
select pg_temp.bid('pin', i), pg_temp.bid('partner', (hashint8extended(i, 51) & 2147483647) % pg_temp.size('partners')),
    pg_temp.bid('customer', i), 'active', s, s, pg_temp.anchor() + interval '60 days', s, 'inn'
from generate_series(0, pg_temp.settled() - 1) i
cross join lateral (select pg_temp.anchor() - pg_temp.u(i, 52) * interval '360 days' as s) t
where pg_temp.u(i, 50) < 0.4;

-- step: payments
-- Payment p belongs to installation p mod n, its (p div n)-th month: rent
-- pays the rent of the customer's plan, a purchase pays the sale price
-- once and then the developer's services, a trial's customer pays for
-- its tariff plan.
insert into payments (id, customer_id, configuration_id, paid_for, amount_minor, currency, provider, provider_payment_id,
    received_at)
select pg_temp.bid('payment', p), pg_temp.bid('customer', b.i),
    case when b.mode <> 'trial' then pg_temp.bid('configuration', b.c) end,
    k.paid_for,
    case k.paid_for when 'rent' then pg_temp.rent(b.c, pg_temp.plan(b.i)) when 'purchase' then pg_temp.sale(b.c)
        when 'services' then 300000 else t.monthly_price_minor end,
    'RUB', 'bench', 'bench-' || p,
    least(b.created_at + (p / pg_temp.size('installations')) * interval '30 days' + pg_temp.u(p, 60) * interval '3 days',
        pg_temp.anchor() - pg_temp.u(p, 61) * interval '20 days')
from generate_series(0, pg_temp.size('payments') - 1) p
join bench_installations b on b.g = p % pg_temp.size('installations')
join tariff_plans t on t.code = pg_temp.plan(b.i)
cross join lateral (select case b.mode when 'rent' then 'rent' when 'trial' then 'plan'
    else case when p < pg_temp.size('installations') then 'purchase' else 'services' end end as paid_for) k
where exists (select 1 from installations x where x.id = pg_temp.bid('installation', b.g));

-- step: ledger
-- The split of SPEC §5 exactly as earnings.Split computes it: developer =
-- amount × rate rounded half-up, partner (under a pin active when paid) =
-- (amount − developer) × partner rate rounded half-up, platform = the rest;
-- rates in force at the payment, read from the rate tables.
insert into ledger_entries (payment_id, party, developer_id, partner_id, amount_minor, currency, rate, paid_for,
    configuration_id, customer_id, occurred_at, created_at)
select s.id, e.party, e.developer_id, e.partner_id, e.amount, s.currency, e.rate, s.paid_for, s.configuration_id,
    s.customer_id, s.received_at, s.received_at
from (
    select x.*, (x.amount_minor - x.dev_share) as platform_part,
        case when x.partner_rate is null then 0 else ((x.amount_minor - x.dev_share) * x.partner_rate + 5000) / 10000 end
            as partner_share
    from (
        select p.id, p.amount_minor, p.currency, p.paid_for, p.configuration_id, p.customer_id, p.received_at,
            c.developer_id, dr.rate as dev_rate, coalesce((p.amount_minor * dr.rate + 5000) / 10000, 0) as dev_share,
            pin.partner_id, pr.rate as partner_rate
        from payments p
        left join configurations c on c.id = p.configuration_id
        left join developers d on d.id = c.developer_id
        left join lateral (select rate from developer_rates r
            where r.developer_status = d.status and r.support_mode = c.support_mode and r.valid_from <= p.received_at
            order by r.valid_from desc limit 1) dr on true
        left join pins pin on pin.customer_id = p.customer_id and pin.state in ('active', 'expired', 'refused')
            and pin.starts_at <= p.received_at and pin.expires_at > p.received_at
        left join partners pa on pa.id = pin.partner_id
        left join lateral (select rate from partner_rates r
            where r.partner_status = pa.status and r.paid_for = p.paid_for and r.valid_from <= p.received_at
            order by r.valid_from desc limit 1) pr on true
        where p.provider = 'bench'
    ) x
) s
cross join lateral (values
    ('developer', s.developer_id, null::uuid, s.dev_share, s.dev_rate),
    ('partner', null, s.partner_id, s.partner_share, s.partner_rate),
    ('platform', null, null, s.platform_part - s.partner_share, null)
) e(party, developer_id, partner_id, amount, rate)
where (e.party = 'developer' and s.developer_id is not null)
    or (e.party = 'partner' and s.partner_id is not null)
    or e.party = 'platform'
order by s.received_at, s.id, e.party;

-- step: open invoices
-- Next period's invoice of every active rental: what recordPayment pays.
insert into invoices (customer_id, installation_id, configuration_id, tariff_plan_id, paid_for, amount_minor,
    period_start, period_end, state, issued_at)
select i.customer_id, i.id, i.configuration_id, c.tariff_plan_id, 'rent', pg_temp.rent(b.c, pg_temp.plan(b.i)),
    i.current_period_end, i.current_period_end + interval '1 month', 'open', i.current_period_end - interval '3 days'
from installations i
join bench_installations b on pg_temp.bid('installation', b.g) = i.id
join customers c on c.id = i.customer_id
where i.mode = 'rent' and i.state = 'active';

-- step: counters
-- What the disabled row triggers would have kept: popularity and ratings.
update configurations c set active_installations = n
from (select configuration_id, count(*) as n from installations where state in ('trialing', 'active', 'past_due')
    group by configuration_id) a
where a.configuration_id = c.id;

update configurations c set rating_count = n, rating_sum = s
from (select configuration_id, count(*) as n, sum(rating) as s from reviews group by configuration_id) r
where r.configuration_id = c.id;

-- step: check
-- The deferred balance trigger was off: check its rule for every payment at once.
do $$
declare
    bad int;
begin
    select count(*) into bad from payments p
    where p.provider = 'bench' and p.amount_minor is distinct from
        (select sum(e.amount_minor) from ledger_entries e where e.payment_id = p.id and e.refund_id is null);
    if bad > 0 then
        raise exception 'benchdata: % payments whose ledger entries do not sum to the amount', bad
            using errcode = 'check_violation', constraint = 'ledger_entries_balanced';
    end if;
end $$;
