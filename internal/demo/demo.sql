-- Demo data. Idempotent: every insert skips rows whose natural key exists.

-- People. All share the password set in demo.password_hash.
insert into users (email, password_hash, name)
select email, current_setting('demo.password_hash'), name
from (values
    ('admin@configmarket.test', 'Platform Admin'),
    ('alfa@configmarket.test', 'Anna Alfa'),
    ('beta@configmarket.test', 'Boris Beta'),
    ('gamma@configmarket.test', 'Galina Gamma'),
    ('delta@configmarket.test', 'Dmitry Delta'),
    ('omega@configmarket.test', 'Olga Omega'),
    ('sigma@configmarket.test', 'Sergey Sigma'),
    ('agent@configmarket.test', 'Arkady Agent'),
    ('dealer@configmarket.test', 'Daria Dealer'),
    ('integrator@configmarket.test', 'Igor Integrator'),
    ('romashka@configmarket.test', 'Roman Romashkin'),
    ('vector@configmarket.test', 'Vera Vectorova'),
    ('kometa@configmarket.test', 'Kirill Kometov'),
    ('orbita@configmarket.test', 'Olesya Orbitova')
) as u(email, name)
on conflict (email) do nothing;

insert into role_grants (user_id, role)
select id, 'admin' from users where email = 'admin@configmarket.test'
on conflict do nothing;

insert into developers (slug, name, bio, website, status, knowledge_test_passed, website_info, contract_signed)
values
    ('alfa-solutions', 'Alfa Solutions', 'Small team automating sales for small businesses.', null, 'basic', false, false, false),
    ('beta-studio', 'Beta Studio', 'Independent developer of HR templates.', null, 'basic', true, false, false),
    ('gamma-integrations', 'Gamma Integrations', 'Web studio integrating the CRM with accounting.', 'https://gamma.example', 'standard', true, true, true),
    ('delta-web', 'Delta Web', 'Digital agency: marketing pipelines and landing pages.', 'https://delta.example', 'standard', true, true, true),
    ('omega-soft', 'Omega Soft', 'CRM solutions are our main business since 2015.', 'https://omega.example', 'premium', true, true, true),
    ('sigma-crm-lab', 'Sigma CRM Lab', 'Industry solutions for logistics and retail.', 'https://sigma.example', 'premium', true, true, true)
on conflict (slug) do nothing;

insert into role_grants (user_id, role, developer_id)
select u.id, 'developer', d.id
from (values
    ('alfa@configmarket.test', 'alfa-solutions'), ('beta@configmarket.test', 'beta-studio'),
    ('gamma@configmarket.test', 'gamma-integrations'), ('delta@configmarket.test', 'delta-web'),
    ('omega@configmarket.test', 'omega-soft'), ('sigma@configmarket.test', 'sigma-crm-lab')
) as g(email, slug)
join users u on u.email = g.email
join developers d on d.slug = g.slug
on conflict do nothing;

insert into partners (name, inn, website, status) values
    ('Agent Partner LLC', '7736050003', null, 'agent'),
    ('Dealer Partner LLC', '7702070139', 'https://dealer.example', 'dealer'),
    ('Integrator Partner LLC', '7710140679', 'https://integrator.example', 'integrator')
on conflict (inn) do nothing;

insert into role_grants (user_id, role, partner_id)
select u.id, 'partner', p.id
from (values
    ('agent@configmarket.test', '7736050003'), ('dealer@configmarket.test', '7702070139'),
    ('integrator@configmarket.test', '7710140679'),
    -- One human, two roles: Omega's developer also resells as an integrator.
    ('omega@configmarket.test', '7710140679')
) as g(email, inn)
join users u on u.email = g.email
join partners p on p.inn = g.inn
on conflict do nothing;

insert into customers (name, inn, crm_account_id, tariff_plan_id)
select c.name, c.inn, c.crm, t.id
from (values
    ('Romashka LLC', '7707083893', 'crm-romashka', 'A'),
    ('Vector LLC', '7728168971', 'crm-vector', 'B'),
    ('Kometa JSC', '7703270067', 'crm-kometa', 'C'),
    ('Orbita Group', null, 'crm-orbita', 'D')
) as c(name, inn, crm, plan)
join tariff_plans t on t.code = c.plan
on conflict (crm_account_id) do nothing;

insert into role_grants (user_id, role, customer_id)
select u.id, 'customer', c.id
from (values
    ('romashka@configmarket.test', 'crm-romashka'), ('vector@configmarket.test', 'crm-vector'),
    ('kometa@configmarket.test', 'crm-kometa'), ('orbita@configmarket.test', 'crm-orbita')
) as g(email, crm)
join users u on u.email = g.email
join customers c on c.crm_account_id = g.crm
on conflict do nothing;

insert into categories (slug, name, position) values
    ('sales', 'Sales', 1), ('finance', 'Finance', 2), ('hr', 'HR', 3),
    ('logistics', 'Logistics', 4), ('marketing', 'Marketing', 5), ('service', 'Customer service', 6)
on conflict (slug) do nothing;

-- Configurations: rent price on plan B in kopecks (other plans scale from
-- it), sale price in kopecks (null: not for sale).
create temporary table demo_configurations (
    slug text, developer text, category text, title text, summary text, tags text[],
    support text, trial integer, rent_b bigint, sale bigint, versions text[]
) on commit drop;

insert into demo_configurations values
    ('sales-funnel-pro', 'omega-soft', 'sales', 'Sales Funnel Pro', 'Deal pipeline with stages, probabilities and forecasts.', '{sales,pipeline,forecast}', 'developer', 14, 50000, 3500000, '{1.0.0,1.1.0,1.2.0}'),
    ('voronka-prodazh', 'omega-soft', 'sales', 'Воронка продаж', 'Воронка сделок с этапами и прогнозом выручки.', '{продажи,воронка}', 'developer', 14, 45000, null, '{1.0.0,2.0.0}'),
    ('invoice-desk', 'gamma-integrations', 'finance', 'Invoice Desk', 'Issue invoices and track payments from the CRM.', '{finance,invoices}', 'developer', 30, 70000, 4900000, '{1.0.0,1.0.1}'),
    ('buhgalteriya-sync', 'gamma-integrations', 'finance', 'Синхронизация с бухгалтерией', 'Обмен счетами и актами с бухгалтерской системой.', '{бухгалтерия,интеграция}', 'platform', 14, 90000, null, '{1.0.0}'),
    ('hr-onboarding', 'beta-studio', 'hr', 'HR Onboarding', 'Checklists and documents for new employees.', '{hr,onboarding}', 'developer', 7, 30000, 2000000, '{0.9.0,1.0.0}'),
    ('otpuska', 'beta-studio', 'hr', 'Учёт отпусков', 'График отпусков и согласования.', '{hr,отпуска}', 'platform', 0, 25000, 1500000, '{1.0.0}'),
    ('fleet-tracker', 'sigma-crm-lab', 'logistics', 'Fleet Tracker', 'Vehicles, drivers and routes in one table.', '{logistics,fleet}', 'developer', 14, 120000, 9000000, '{1.0.0,1.1.0}'),
    ('sklad-lite', 'sigma-crm-lab', 'logistics', 'Склад Лайт', 'Остатки, приход и расход товаров.', '{склад,логистика}', 'developer', 14, 60000, 4000000, '{1.0.0,1.1.0,1.2.0}'),
    ('delivery-slots', 'sigma-crm-lab', 'logistics', 'Delivery Slots', 'Customers pick delivery windows; couriers see routes.', '{logistics,delivery}', 'platform', 14, 55000, null, '{1.0.0}'),
    ('email-campaigns', 'delta-web', 'marketing', 'Email Campaigns', 'Segments, templates and campaign statistics.', '{marketing,email}', 'developer', 14, 40000, 2800000, '{1.0.0,1.3.0}'),
    ('landing-leads', 'delta-web', 'marketing', 'Landing Leads', 'Collect leads from landing pages into deals.', '{marketing,leads}', 'developer', 21, 35000, null, '{2.0.0}'),
    ('loyalty-cards', 'delta-web', 'marketing', 'Программа лояльности', 'Бонусные карты, начисления и списания баллов.', '{маркетинг,лояльность}', 'platform', 14, 65000, 5000000, '{1.0.0}'),
    ('service-desk', 'omega-soft', 'service', 'Service Desk', 'Tickets, SLAs and a customer portal.', '{service,tickets,sla}', 'developer', 14, 80000, 6000000, '{1.0.0,1.1.0,2.0.0}'),
    ('callback-widget', 'alfa-solutions', 'service', 'Callback Widget', 'Callback requests from the website straight into the CRM.', '{service,calls}', 'developer', 14, 20000, null, '{1.0.0}'),
    ('price-lists', 'alfa-solutions', 'sales', 'Прайс-листы', 'Прайс-листы с наценками для разных клиентов.', '{продажи,цены}', 'developer', 14, 15000, 900000, '{1.0.0,1.0.1}'),
    ('quotes-builder', 'alfa-solutions', 'sales', 'Quotes Builder', 'Build quotes from products and send them as PDF.', '{sales,quotes}', 'platform', 10, 30000, 2100000, '{1.0.0}'),
    ('budget-planner', 'gamma-integrations', 'finance', 'Budget Planner', 'Department budgets with plan versus actual.', '{finance,budget}', 'developer', 14, 75000, null, '{1.0.0,1.1.0}'),
    ('kadry', 'beta-studio', 'hr', 'Кадровый учёт', 'Сотрудники, должности и приказы.', '{hr,кадры}', 'developer', 14, 40000, 2500000, '{1.0.0}'),
    ('event-manager', 'delta-web', 'marketing', 'Event Manager', 'Registrations, badges and follow-ups for events.', '{marketing,events}', 'developer', 14, 50000, 3000000, '{1.0.0,1.0.2}'),
    ('retail-pos', 'sigma-crm-lab', 'sales', 'Retail POS Bridge', 'Sales from shop tills land in the CRM as deals.', '{retail,sales,pos}', 'developer', 14, 150000, 12000000, '{1.0.0,1.5.0}');

insert into configurations (developer_id, slug, title, summary, description, category_id, tags, visibility,
    sells_rent, sells_purchase, support_mode, trial_days, state, published_at)
select d.id, c.slug, c.title, c.summary, '## ' || c.title || E'\n\n' || c.summary, cat.id, c.tags, 'public',
    true, c.sale is not null, c.support, c.trial, 'published', now()
from demo_configurations c
join developers d on d.slug = c.developer
join categories cat on cat.slug = c.category
on conflict (slug) do nothing;

insert into versions (configuration_id, major, minor, patch, changelog, state, submitted_at, decided_at)
select cfg.id, split_part(v.num, '.', 1)::int, split_part(v.num, '.', 2)::int, split_part(v.num, '.', 3)::int,
    'Release ' || v.num || ' of ' || c.title || '.', 'approved', now(), now()
from demo_configurations c
join configurations cfg on cfg.slug = c.slug
cross join lateral unnest(c.versions) as v(num)
on conflict (configuration_id, major, minor, patch) do nothing;

-- Prices apply from the epoch so reloading adds no history rows.
insert into prices (configuration_id, kind, tariff_plan_id, amount_minor, currency, valid_from)
select cfg.id, 'rent', t.id,
    case t.code when 'A' then c.rent_b * 6 / 10 when 'B' then c.rent_b when 'C' then c.rent_b * 2 else c.rent_b * 4 end,
    'RUB', 'epoch'
from demo_configurations c
join configurations cfg on cfg.slug = c.slug
cross join tariff_plans t
on conflict on constraint prices_unique do nothing;

insert into prices (configuration_id, kind, amount_minor, currency, valid_from)
select cfg.id, 'sale', c.sale, 'RUB', 'epoch'
from demo_configurations c
join configurations cfg on cfg.slug = c.slug
where c.sale is not null
on conflict on constraint prices_unique do nothing;
