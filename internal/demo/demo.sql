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
    ('orbita@configmarket.test', 'Olesya Orbitova'),
    ('lotos@configmarket.test', 'Lidia Lotosova'),
    ('rassvet@configmarket.test', 'Ruslan Rassvetov'),
    ('zarya@configmarket.test', 'Zoya Zaryanova'),
    ('vostok@configmarket.test', 'Viktor Vostokov'),
    ('baikal@configmarket.test', 'Bogdan Baikalov'),
    ('sever@configmarket.test', 'Svetlana Severova')
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

-- Each demo partner's status history: its first status, set by no admin.
insert into partner_status_history (partner_id, status, reason)
select p.id, p.status, 'demo data'
from partners p
where p.inn in ('7736050003', '7702070139', '7710140679')
    and not exists (select 1 from partner_status_history h where h.partner_id = p.id);

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

-- Ten CRM accounts spread over every plan. Every INN passes the check digit
-- (weights 2,4,10,3,5,9,4,6,8; demo_test verifies them); some have none.
insert into customers (name, inn, crm_account_id, tariff_plan_id)
select c.name, c.inn, c.crm, t.id
from (values
    ('Romashka LLC', '7707083893', 'crm-romashka', 'A'),
    ('Vector LLC', '7728168971', 'crm-vector', 'B'),
    ('Kometa JSC', '7703270067', 'crm-kometa', 'C'),
    ('Orbita Group', null, 'crm-orbita', 'D'),
    ('Lotos LLC', '7812345604', 'crm-lotos', 'A'),
    ('Rassvet JSC', '5406123450', 'crm-rassvet', 'B'),
    ('Zarya Trading', null, 'crm-zarya', 'B'),
    ('Vostok Logistics LLC', '6658123404', 'crm-vostok', 'C'),
    ('Baikal Retail JSC', '2465012348', 'crm-baikal', 'D'),
    ('Sever Consulting', null, 'crm-sever', 'A')
) as c(name, inn, crm, plan)
join tariff_plans t on t.code = c.plan
on conflict (crm_account_id) do nothing;

insert into role_grants (user_id, role, customer_id)
select u.id, 'customer', c.id
from (values
    ('romashka@configmarket.test', 'crm-romashka'), ('vector@configmarket.test', 'crm-vector'),
    ('kometa@configmarket.test', 'crm-kometa'), ('orbita@configmarket.test', 'crm-orbita'),
    ('lotos@configmarket.test', 'crm-lotos'), ('rassvet@configmarket.test', 'crm-rassvet'),
    ('zarya@configmarket.test', 'crm-zarya'), ('vostok@configmarket.test', 'crm-vostok'),
    ('baikal@configmarket.test', 'crm-baikal'), ('sever@configmarket.test', 'crm-sever')
) as g(email, crm)
join users u on u.email = g.email
join customers c on c.crm_account_id = g.crm
on conflict do nothing;

insert into categories (slug, name, position) values
    ('sales', 'Sales', 1), ('finance', 'Finance', 2), ('hr', 'HR', 3),
    ('logistics', 'Logistics', 4), ('marketing', 'Marketing', 5), ('service', 'Customer service', 6)
on conflict (slug) do nothing;

-- Configurations: rent price on plan B in kopecks (other plans scale from
-- it), sale price in kopecks (null: not for sale), the versions (approved,
-- or draft for a draft configuration), days since first publication and the
-- number of screenshots.
create temporary table demo_configurations (
    slug text, developer text, category text, title text, summary text, tags text[],
    support text, trial integer, rent_b bigint, sale bigint, versions text[],
    visibility text, state text, age integer, shots integer
) on commit drop;

insert into demo_configurations values
    ('sales-funnel-pro', 'omega-soft', 'sales', 'Sales Funnel Pro', 'Deal pipeline with stages, probabilities and forecasts.', '{sales,pipeline,forecast}', 'developer', 14, 50000, 3500000, '{1.0.0,1.1.0,1.2.0}', 'public', 'published', 420, 4),
    ('voronka-prodazh', 'omega-soft', 'sales', 'Воронка продаж', 'Воронка сделок с этапами и прогнозом выручки.', '{продажи,воронка}', 'developer', 14, 45000, null, '{1.0.0,2.0.0}', 'public', 'published', 300, 3),
    ('invoice-desk', 'gamma-integrations', 'finance', 'Invoice Desk', 'Issue invoices and track payments from the CRM.', '{finance,invoices}', 'developer', 30, 70000, 4900000, '{1.0.0,1.0.1}', 'public', 'published', 260, 3),
    ('buhgalteriya-sync', 'gamma-integrations', 'finance', 'Синхронизация с бухгалтерией', 'Обмен счетами и актами с бухгалтерской системой.', '{бухгалтерия,интеграция}', 'platform', 14, 90000, null, '{1.0.0}', 'public', 'published', 150, 2),
    ('hr-onboarding', 'beta-studio', 'hr', 'HR Onboarding', 'Checklists and documents for new employees.', '{hr,onboarding}', 'developer', 7, 30000, 2000000, '{0.9.0,1.0.0}', 'public', 'published', 240, 3),
    ('otpuska', 'beta-studio', 'hr', 'Учёт отпусков', 'График отпусков и согласования.', '{hr,отпуска}', 'platform', 0, 25000, 1500000, '{1.0.0}', 'public', 'published', 90, 2),
    ('fleet-tracker', 'sigma-crm-lab', 'logistics', 'Fleet Tracker', 'Vehicles, drivers and routes in one table.', '{logistics,fleet}', 'developer', 14, 120000, 9000000, '{1.0.0,1.1.0}', 'public', 'published', 380, 4),
    ('sklad-lite', 'sigma-crm-lab', 'logistics', 'Склад Лайт', 'Остатки, приход и расход товаров.', '{склад,логистика}', 'developer', 14, 60000, 4000000, '{1.0.0,1.1.0,1.2.0}', 'public', 'published', 350, 3),
    ('delivery-slots', 'sigma-crm-lab', 'logistics', 'Delivery Slots', 'Customers pick delivery windows; couriers see routes.', '{logistics,delivery}', 'platform', 14, 55000, null, '{1.0.0}', 'public', 'published', 120, 2),
    ('email-campaigns', 'delta-web', 'marketing', 'Email Campaigns', 'Segments, templates and campaign statistics.', '{marketing,email}', 'developer', 14, 40000, 2800000, '{1.0.0,1.3.0}', 'public', 'published', 330, 4),
    ('landing-leads', 'delta-web', 'marketing', 'Landing Leads', 'Collect leads from landing pages into deals.', '{marketing,leads}', 'developer', 21, 35000, null, '{2.0.0}', 'public', 'published', 200, 2),
    ('loyalty-cards', 'delta-web', 'marketing', 'Программа лояльности', 'Бонусные карты, начисления и списания баллов.', '{маркетинг,лояльность}', 'platform', 14, 65000, 5000000, '{1.0.0}', 'public', 'published', 180, 3),
    ('service-desk', 'omega-soft', 'service', 'Service Desk', 'Tickets, SLAs and a customer portal.', '{service,tickets,sla}', 'developer', 14, 80000, 6000000, '{1.0.0,1.1.0,2.0.0}', 'public', 'published', 400, 4),
    ('callback-widget', 'alfa-solutions', 'service', 'Callback Widget', 'Callback requests from the website straight into the CRM.', '{service,calls}', 'developer', 14, 20000, null, '{1.0.0}', 'public', 'published', 45, 2),
    ('price-lists', 'alfa-solutions', 'sales', 'Прайс-листы', 'Прайс-листы с наценками для разных клиентов.', '{продажи,цены}', 'developer', 14, 15000, 900000, '{1.0.0,1.0.1}', 'public', 'published', 230, 2),
    ('quotes-builder', 'alfa-solutions', 'sales', 'Quotes Builder', 'Build quotes from products and send them as PDF.', '{sales,quotes}', 'platform', 10, 30000, 2100000, '{1.0.0}', 'public', 'published', 30, 3),
    ('budget-planner', 'gamma-integrations', 'finance', 'Budget Planner', 'Department budgets with plan versus actual.', '{finance,budget}', 'developer', 14, 75000, null, '{1.0.0,1.1.0}', 'public', 'published', 100, 3),
    ('kadry', 'beta-studio', 'hr', 'Кадровый учёт', 'Сотрудники, должности и приказы.', '{hr,кадры}', 'developer', 14, 40000, 2500000, '{1.0.0}', 'public', 'published', 140, 2),
    ('event-manager', 'delta-web', 'marketing', 'Event Manager', 'Registrations, badges and follow-ups for events.', '{marketing,events}', 'developer', 14, 50000, 3000000, '{1.0.0,1.0.2}', 'public', 'published', 280, 3),
    ('retail-pos', 'sigma-crm-lab', 'sales', 'Retail POS Bridge', 'Sales from shop tills land in the CRM as deals.', '{retail,sales,pos}', 'developer', 14, 150000, 12000000, '{1.0.0,1.5.0}', 'public', 'published', 360, 4),
    -- Visibility cases: reachable by slug only, installable by invitation
    -- only, and a draft that only its developer sees.
    ('kanban-board', 'delta-web', 'sales', 'Kanban Board (preview)', 'Drag deals, tasks or tickets between columns.', '{sales,kanban,tasks}', 'developer', 14, 25000, null, '{0.9.0,1.0.0}', 'unlisted', 'published', 20, 2),
    ('dealer-portal', 'omega-soft', 'sales', 'Dealer Portal', 'A private ordering portal for your dealers.', '{sales,dealers,b2b}', 'developer', 14, 100000, 8000000, '{1.0.0}', 'private', 'published', 60, 3),
    ('chat-bot', 'alfa-solutions', 'service', 'Чат-бот для сайта', 'Ответы на частые вопросы и передача обращений менеджеру.', '{сервис,чат,бот}', 'developer', 14, 25000, null, '{0.1.0}', 'public', 'draft', 10, 2);

-- Long descriptions (markdown), in the configuration's language.
create temporary table demo_descriptions (slug text, description text) on commit drop;

insert into demo_descriptions values
('sales-funnel-pro', $md$## Sales Funnel Pro

Sales Funnel Pro turns your CRM deals into a pipeline you can actually manage. Every deal moves through stages you define, each stage carries a win probability, and the forecast updates the moment a manager drags a card.

### What you get

- Unlimited pipelines with custom stages and probabilities
- Weighted revenue forecast by month, manager and product
- Stuck-deal alerts when a deal sits in one stage too long
- Win/loss reasons with a monthly report

### Who it is for

Sales teams of 3 to 100 people who need a forecast their finance director trusts. Setup takes about an hour: existing deals are imported and their statuses mapped to stages.

Omega Soft supports its customers on weekdays, 9:00–18:00 Moscow time.$md$),
('voronka-prodazh', $md$## Воронка продаж

«Воронка продаж» показывает, на каком этапе находится каждая сделка и сколько выручки ждать в этом месяце. Этапы, вероятности и обязательные поля настраиваются под ваш процесс без программиста.

### Возможности

- Несколько воронок: для новых клиентов, повторных продаж и тендеров
- Прогноз выручки с учётом вероятности этапа
- Напоминания о сделках без движения
- Отчёт по причинам отказа

### Что нового в версии 2.0

Во второй версии появились план продаж по менеджерам и сравнение с прошлым периодом. Данные версии 1.x переносятся автоматически.

Поддержку оказывает разработчик — Omega Soft.$md$),
('invoice-desk', $md$## Invoice Desk

Invoice Desk issues invoices straight from a deal and tracks whether they are paid. No more copying amounts into a separate tool and chasing statuses by phone.

### Features

- Invoice templates with your logo, bank details and VAT
- Partial payments and payment reminders by email
- Overdue invoice dashboard per manager
- CSV export for your accountant

### Getting started

Fill in your company details once, choose a template, and a **Create invoice** button appears on every deal. The 30-day trial includes every feature.$md$),
('buhgalteriya-sync', $md$## Синхронизация с бухгалтерией

Конфигурация связывает CRM с бухгалтерской системой: счета, акты и оплаты передаются в обе стороны без ручного ввода.

### Что синхронизируется

- Контрагенты и их реквизиты
- Счета и акты выполненных работ
- Поступления оплат — статус сделки меняется автоматически

### Как подключить

Укажите адрес сервиса бухгалтерии и ключ доступа в настройках и выберите, какие документы передавать. Первая синхронизация занимает от нескольких минут до часа в зависимости от объёма данных.

Поддержку по этой конфигурации оказывает платформа.$md$),
('hr-onboarding', $md$## HR Onboarding

HR Onboarding gives every new employee a clear first week: a checklist of tasks, the documents to sign and the people to meet.

### Features

- Checklists per position, with deadlines and owners
- Document pack with signature tracking
- Welcome email with the first-day plan
- Progress report for the HR manager

### Why teams use it

New hires stop asking the same questions, managers see who is behind, and nothing is forgotten — from the laptop order to the safety briefing.$md$),
('otpuska', $md$## Учёт отпусков

«Учёт отпусков» собирает график отпусков всей компании в одной таблице и проводит заявки через согласование руководителя.

### Возможности

- Годовой график с пересечениями по отделам
- Заявки на отпуск с согласованием в один клик
- Остаток дней отпуска у каждого сотрудника
- Уведомления сотруднику и бухгалтерии

Пробного периода нет: посмотрите скриншоты или задайте вопрос поддержке платформы — она же сопровождает конфигурацию после покупки.$md$),
('fleet-tracker', $md$## Fleet Tracker

Fleet Tracker keeps vehicles, drivers and routes in one place, linked to the deals they serve.

### Features

- Vehicle registry with insurance and inspection dates
- Driver assignments and working hours
- Route sheets generated from delivery deals
- Fuel and mileage log with monthly reports

### Built for logistics

Sigma CRM Lab builds industry solutions for carriers and distributors; Fleet Tracker grew out of projects for fleets of 10 to 300 vehicles.$md$),
('sklad-lite', $md$## Склад Лайт

«Склад Лайт» — простой складской учёт внутри CRM: остатки, приход, расход и перемещения между складами.

### Возможности

- Несколько складов и ячеек хранения
- Резервирование товара под сделку
- Приходные и расходные накладные
- Уведомления о минимальном остатке

### Для кого

Для магазинов, дистрибьюторов и небольших производств, которым пока не нужна отдельная складская система. Если оборот вырастет, все данные выгружаются в CSV.$md$),
('delivery-slots', $md$## Delivery Slots

Let customers choose when they receive their order. Delivery Slots publishes the free windows, books them against courier capacity and gives each courier a route for the day.

### Features

- Delivery windows per zone and day of the week
- Capacity limits per courier and per slot
- A booking link you can send from any deal
- Daily route list for each courier

The platform supports this configuration.$md$),
('email-campaigns', $md$## Email Campaigns

Email Campaigns sends newsletters and promotions to segments built from your CRM data and shows what happened next.

### Features

- Segments by deal stage, purchase history and tags
- Drag-and-drop templates
- Opens, clicks and unsubscribes per campaign
- Deals created from campaign clicks

### Deliverability

Unsubscribe links and bounce handling are built in, so your lists stay clean and your domain stays out of spam folders.$md$),
('landing-leads', $md$## Landing Leads

Landing Leads collects form submissions from your landing pages and turns them into deals with their source attached.

### Features

- One snippet for any website builder
- UTM tags saved on the lead
- Duplicate detection by phone and email
- Instant notification to the responsible manager

### Trial

The 21-day trial is long enough to run a full ad campaign and compare sources.$md$),
('loyalty-cards', $md$## Программа лояльности

Бонусная программа для розницы и услуг: клиент получает карту, копит баллы за покупки и списывает их при следующем заказе.

### Возможности

- Виртуальные и пластиковые карты
- Правила начисления: процент от покупки, фиксированные баллы, акции
- Списание баллов прямо в сделке
- Отчёт о вовлечённости клиентов

### Поддержка

Конфигурацию сопровождает платформа: вопросы по настройке правил начисления решаются в общем чате поддержки.$md$),
('service-desk', $md$## Service Desk

Service Desk turns customer requests into tickets with deadlines, owners and a full history.

### Features

- Tickets from email, web form and phone calls
- SLA policies by customer tier, with escalation
- Customer portal with ticket status and a knowledge base
- Satisfaction survey after each resolved ticket

### Version 2.0

Version 2.0 added multi-level SLAs and a redesigned portal. Renting customers are updated automatically; purchased installations stay on the version they bought.$md$),
('callback-widget', $md$## Callback Widget

A small widget for your website: the visitor leaves a phone number, and the request lands in the CRM as a call task for the next free manager.

### Features

- Widget in your colours, aware of your working hours
- Requests outside working hours are scheduled for the morning
- Call result recorded on the task

It installs in five minutes: paste one line of code into your site.$md$),
('price-lists', $md$## Прайс-листы

Конфигурация хранит прайс-листы и наценки для разных групп клиентов: розница, опт, дилеры.

### Возможности

- Базовый прайс и правила наценок по группам
- Индивидуальные цены для ключевых клиентов
- Автоматическая подстановка нужной цены в сделку
- История изменения цен

Подходит небольшим торговым компаниям, которые ведут цены в таблицах и устали их сверять.$md$),
('quotes-builder', $md$## Quotes Builder

Build a quote from your product catalog in a minute and send it as a branded PDF.

### Features

- Products, discounts and taxes in one table
- PDF templates with your logo
- Quote versions and approval by a manager
- Accepted quotes become invoices

The platform supports this configuration.$md$),
('budget-planner', $md$## Budget Planner

Budget Planner lets each department plan its budget and compare it with actual spending recorded in the CRM.

### Features

- Budget lines per department and month
- Actuals pulled from paid invoices and expenses
- Variance report with comments
- Approval workflow for budget changes

### Version 1.1

Adds quarterly views and export to a spreadsheet.$md$),
('kadry', $md$## Кадровый учёт

«Кадровый учёт» ведёт сотрудников, должности и приказы прямо в CRM.

### Возможности

- Карточка сотрудника с документами
- Штатное расписание
- Приказы о приёме, переводе и увольнении по шаблонам
- Напоминания об окончании испытательного срока и медосмотрах

Beta Studio обновляет шаблоны приказов при изменениях законодательства.$md$),
('event-manager', $md$## Event Manager

Event Manager runs conferences, webinars and workshops: registrations, badges and follow-ups.

### Features

- Registration forms linked to contacts
- Badge printing with QR codes
- Check-in from a phone
- Follow-up emails, and deals for the hottest leads

Works for a 20-seat workshop as well as a 2,000-guest conference.$md$),
('retail-pos', $md$## Retail POS Bridge

Retail POS Bridge brings sales from shop tills into the CRM. Each receipt becomes a deal, linked to a loyalty customer when there is one.

### Features

- Connectors for common POS systems
- Receipts, returns and shifts
- Sales by store, cashier and product
- Customer purchase history for marketing

### For chains

Built for chains of 5 to 500 stores; Sigma CRM Lab helps with the connection during the trial.$md$),
('kanban-board', $md$## Kanban Board (preview)

A Kanban board for any CRM list: deals, tasks or tickets become cards you drag between columns.

This is a **preview** shared by link with early testers; it is not listed in the catalog yet.

### Features

- Columns from any status field
- Work-in-progress limits per column
- Swimlanes by owner$md$),
('dealer-portal', $md$## Dealer Portal

A private portal for your dealers: they see their prices, place orders and track shipments without calling your managers.

### Features

- Dealer-specific price lists and credit limits
- Orders become deals in your CRM
- Shipment status and documents

Available by invitation only: contact Omega Soft to get access.$md$),
('chat-bot', $md$## Чат-бот для сайта

Чат-бот отвечает посетителям сайта на частые вопросы и передаёт сложные обращения менеджеру в CRM.

### Возможности (в разработке)

- Сценарии ответов без программирования
- Передача диалога менеджеру
- Сохранение переписки в карточке клиента$md$);

insert into configurations (developer_id, slug, title, summary, description, category_id, tags, screenshots, visibility,
    sells_rent, sells_purchase, support_mode, trial_days, state, created_at, published_at)
select d.id, c.slug, c.title, c.summary, dd.description, cat.id, c.tags,
    array(select format('https://cdn.configmarket.test/screenshots/%s/%s.png', c.slug, n) from generate_series(1, c.shots) n),
    c.visibility, true, c.sale is not null, c.support, c.trial, c.state,
    now() - make_interval(days => c.age + 14),
    case when c.state = 'published' then now() - make_interval(days => c.age) end
from demo_configurations c
join demo_descriptions dd on dd.slug = c.slug
join developers d on d.slug = c.developer
join categories cat on cat.slug = c.category
on conflict (slug) do nothing;

-- Versions spread over the configuration's life: the first approved one
-- published it, the last one is the current version.
insert into versions (configuration_id, major, minor, patch, changelog, state, submitted_at, decided_at, decided_by)
select cfg.id, split_part(v.num, '.', 1)::int, split_part(v.num, '.', 2)::int, split_part(v.num, '.', 3)::int,
    case when c.title ~ '[А-Яа-яЁё]' then 'Выпуск ' || v.num || ': ' || case when v.i = 1 then 'первая версия.' else 'исправления и улучшения.' end
        else 'Release ' || v.num || ': ' || case when v.i = 1 then 'first release.' else 'fixes and improvements.' end end,
    case when c.state = 'draft' then 'draft' else 'approved' end,
    case when c.state <> 'draft' then t.decided - interval '1 day' end,
    case when c.state <> 'draft' then t.decided end,
    case when c.state <> 'draft' then (select id from users where email = 'admin@configmarket.test') end
from demo_configurations c
join configurations cfg on cfg.slug = c.slug
cross join lateral unnest(c.versions) with ordinality as v(num, i)
cross join lateral (select now() - make_interval(days => c.age * (cardinality(c.versions) - v.i::int + 1) / cardinality(c.versions)) as decided) t
on conflict (configuration_id, major, minor, patch) do nothing;

-- Moderation cases: a version waiting for review and a rejected one, each
-- newer than the current approved version of a published configuration.
insert into versions (configuration_id, major, minor, patch, changelog, state, rejection_reason, submitted_at, decided_at, decided_by)
select cfg.id, v.major, v.minor, v.patch, v.changelog, v.state, v.reason,
    now() - make_interval(days => v.submitted),
    case when v.state = 'rejected' then now() - make_interval(days => v.submitted - 1) end,
    case when v.state = 'rejected' then (select id from users where email = 'admin@configmarket.test') end
from (values
    ('service-desk', 2, 1, 0, 'Release 2.1.0: ticket merging and canned replies.', 'in_review', null, 2),
    ('email-campaigns', 1, 4, 0, 'Release 1.4.0: new template gallery.', 'rejected',
        'The new templates copy another developer''s published designs, and the changelog does not list the removed A/B testing feature.', 5)
) as v(slug, major, minor, patch, changelog, state, reason, submitted)
join configurations cfg on cfg.slug = v.slug
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

-- The private configuration is open to one invited customer.
insert into configuration_invites (configuration_id, customer_id, created_at)
select cfg.id, cu.id, now() - interval '50 days'
from configurations cfg, customers cu
where cfg.slug = 'dealer-portal' and cu.crm_account_id = 'crm-kometa'
on conflict do nothing;

-- Installations: mode and state, days since it started, the version of a
-- purchase (trials and rentals run the current version), whether a rental
-- is cancelled at the end of its period, and whether it began as a trial.
create temporary table demo_installations (
    crm text, slug text, mode text, state text, age integer, version text, cancel_at_end boolean, had_trial boolean
) on commit drop;

insert into demo_installations values
    ('crm-romashka', 'sales-funnel-pro', 'rent', 'active', 120, null, false, false),
    ('crm-romashka', 'price-lists', 'purchase', 'active', 200, '1.0.0', false, false),
    ('crm-romashka', 'callback-widget', 'trial', 'trialing', 5, null, false, true),
    ('crm-romashka', 'voronka-prodazh', 'trial', 'expired', 60, null, false, true),
    ('crm-vector', 'invoice-desk', 'rent', 'active', 90, null, false, false),
    ('crm-vector', 'email-campaigns', 'rent', 'active', 45, null, true, false),
    ('crm-vector', 'kanban-board', 'trial', 'trialing', 3, null, false, true),
    ('crm-vector', 'budget-planner', 'trial', 'trialing', 10, null, false, true),
    ('crm-vector', 'service-desk', 'purchase', 'active', 150, '1.1.0', false, false),
    ('crm-kometa', 'dealer-portal', 'rent', 'active', 40, null, false, false),
    ('crm-kometa', 'fleet-tracker', 'rent', 'past_due', 70, null, false, false),
    ('crm-kometa', 'sklad-lite', 'purchase', 'active', 180, '1.1.0', false, false),
    ('crm-orbita', 'service-desk', 'rent', 'active', 300, null, false, false),
    ('crm-orbita', 'retail-pos', 'purchase', 'active', 100, '1.5.0', false, false),
    ('crm-orbita', 'loyalty-cards', 'trial', 'trialing', 8, null, false, true),
    ('crm-orbita', 'event-manager', 'rent', 'canceled', 200, null, false, false),
    ('crm-lotos', 'otpuska', 'rent', 'active', 50, null, false, false),
    ('crm-lotos', 'hr-onboarding', 'trial', 'expired', 30, null, false, true),
    ('crm-lotos', 'quotes-builder', 'trial', 'trialing', 4, null, false, true),
    ('crm-rassvet', 'voronka-prodazh', 'rent', 'active', 80, null, false, true),
    ('crm-rassvet', 'buhgalteriya-sync', 'rent', 'active', 65, null, false, false),
    ('crm-rassvet', 'kadry', 'purchase', 'active', 120, '1.0.0', false, false),
    ('crm-rassvet', 'landing-leads', 'trial', 'trialing', 12, null, false, true),
    ('crm-zarya', 'delivery-slots', 'trial', 'trialing', 6, null, false, true),
    ('crm-zarya', 'sales-funnel-pro', 'trial', 'expired', 40, null, false, true),
    ('crm-vostok', 'fleet-tracker', 'purchase', 'active', 210, '1.0.0', false, false),
    ('crm-vostok', 'delivery-slots', 'rent', 'active', 95, null, false, false),
    ('crm-vostok', 'sklad-lite', 'rent', 'active', 75, null, false, false),
    ('crm-vostok', 'budget-planner', 'rent', 'active', 30, null, true, false),
    ('crm-vostok', 'invoice-desk', 'trial', 'trialing', 20, null, false, true),
    ('crm-baikal', 'retail-pos', 'rent', 'active', 160, null, false, false),
    ('crm-baikal', 'loyalty-cards', 'rent', 'active', 110, null, false, false),
    ('crm-baikal', 'email-campaigns', 'purchase', 'active', 140, '1.3.0', false, false),
    ('crm-baikal', 'sales-funnel-pro', 'rent', 'active', 85, null, false, true),
    ('crm-sever', 'hr-onboarding', 'rent', 'active', 55, null, false, false),
    ('crm-sever', 'kadry', 'trial', 'trialing', 9, null, false, true),
    ('crm-sever', 'landing-leads', 'rent', 'past_due', 100, null, false, false);

-- The license key is derived from the pair, so it is the same on every load.
-- The not-exists guard keeps insert triggers from seeing rows that exist.
-- A rental's current period started (age mod 30) days ago; a cancelled one
-- ended its last period that long ago.
insert into installations (customer_id, configuration_id, mode, state, version_id, license_key,
    trial_ends_at, current_period_start, current_period_end, cancel_at_period_end, created_at, updated_at)
select cu.id, cfg.id, i.mode, i.state, ver.id,
    'CM-' || upper(substr(md5(cu.id::text || cfg.id::text), 1, 20)),
    case when i.mode = 'trial' then t.started + make_interval(days => cfg.trial_days) end,
    case when i.mode = 'rent' then t.period end,
    case when i.mode = 'rent' then t.period + interval '1 month' end,
    i.cancel_at_end, t.started, t.started
from demo_installations i
join customers cu on cu.crm_account_id = i.crm
join configurations cfg on cfg.slug = i.slug
cross join lateral (select now() - make_interval(days => i.age) as started,
    now() - make_interval(days => i.age % 30 + case when i.state = 'canceled' then 30 else 0 end) as period) t
cross join lateral (
    select v.id from versions v
    where v.configuration_id = cfg.id and v.state = 'approved'
        and (i.version is null or format('%s.%s.%s', v.major, v.minor, v.patch) = i.version)
    order by v.major desc, v.minor desc, v.patch desc
    limit 1
) ver
where not exists (select 1 from installations x where x.customer_id = cu.id and x.configuration_id = cfg.id)
on conflict do nothing;

-- One trial per customer and configuration, ever: the current trials and the
-- rentals that began as one.
insert into trials (customer_id, configuration_id, started_at, ends_at)
select inst.customer_id, inst.configuration_id, inst.created_at, inst.created_at + make_interval(days => cfg.trial_days)
from demo_installations i
join customers cu on cu.crm_account_id = i.crm
join configurations cfg on cfg.slug = i.slug
join installations inst on inst.customer_id = cu.id and inst.configuration_id = cfg.id
where i.had_trial
on conflict do nothing;

-- Reviews by customers that installed the configuration, written by the
-- customer's user, halfway between the installation and now.
insert into reviews (configuration_id, customer_id, author_user_id, rating, body, created_at, updated_at)
select inst.configuration_id, inst.customer_id, rg.user_id, r.rating, r.body, t.at, t.at
from (values
    ('crm-romashka', 'sales-funnel-pro', 5, 'Finally we see where every deal gets stuck. The forecast was within a few percent of the real month.'),
    ('crm-romashka', 'price-lists', 4, 'Удобно вести отдельные наценки для оптовиков. Не хватает импорта прайса из Excel.'),
    ('crm-romashka', 'voronka-prodazh', 3, 'Пробовали две недели: воронка понятная, но прогноз выручки для нас слишком грубый.'),
    ('crm-vector', 'invoice-desk', 5, 'Invoices go out in two clicks and the payment status updates itself.'),
    ('crm-vector', 'email-campaigns', 3, 'Segments work well, but the template editor is clumsy. We are moving to another tool.'),
    ('crm-vector', 'service-desk', 4, 'Solid ticketing with SLAs out of the box. The customer portal needed some styling work.'),
    ('crm-kometa', 'fleet-tracker', 2, 'Route import fails on large files, and support took a week to answer.'),
    ('crm-kometa', 'sklad-lite', 5, 'Остатки всегда актуальны, кладовщики освоили всё за один день.'),
    ('crm-kometa', 'dealer-portal', 4, 'Our dealers place orders themselves now. A mobile layout would help.'),
    ('crm-orbita', 'service-desk', 5, 'Forty agents work in it every day without issues. The SLA reports are exactly what management asked for.'),
    ('crm-orbita', 'retail-pos', 4, 'Sales from all twelve stores arrive within minutes. The initial setup needed the developer''s help.'),
    ('crm-orbita', 'event-manager', 2, 'Badge printing kept breaking during our conference, so we cancelled.'),
    ('crm-lotos', 'otpuska', 5, 'Наконец-то график отпусков в одном месте, и согласования проходят без переписки.'),
    ('crm-rassvet', 'voronka-prodazh', 4, 'После пробного периода перешли на аренду: этапы легко настроить под наш процесс.'),
    ('crm-rassvet', 'buhgalteriya-sync', 3, 'Счета выгружаются исправно, но акты иногда дублируются — приходится проверять вручную.'),
    ('crm-vostok', 'fleet-tracker', 4, 'Drivers and vehicles in one table replaced a spreadsheet. The reports could be richer.'),
    ('crm-vostok', 'delivery-slots', 5, 'Customers like picking their own window, and missed deliveries dropped by a third.'),
    ('crm-baikal', 'retail-pos', 5, 'Works across all our tills; deals appear in the CRM before the customer leaves the shop.'),
    ('crm-baikal', 'loyalty-cards', 4, 'Бонусы начисляются автоматически, клиенты довольны. Хотелось бы push-уведомлений.'),
    ('crm-sever', 'landing-leads', 1, 'Leads arrive duplicated and without UTM tags. We stopped paying.')
) as r(crm, slug, rating, body)
join customers cu on cu.crm_account_id = r.crm
join configurations cfg on cfg.slug = r.slug
join installations inst on inst.customer_id = cu.id and inst.configuration_id = cfg.id
cross join lateral (
    select g.user_id from role_grants g
    where g.role = 'customer' and g.customer_id = cu.id
    order by g.created_at, g.id
    limit 1
) rg
cross join lateral (select inst.created_at + (now() - inst.created_at) / 2 as at) t
where not exists (select 1 from reviews x where x.configuration_id = cfg.id and x.customer_id = cu.id)
on conflict on constraint reviews_one_per_customer do nothing;

-- Rentals are billed from an anchor; demo rentals anchor at their period.
update installations set billing_anchor = current_period_start
where mode = 'rent' and billing_anchor is null and current_period_start is not null;

-- Active rentals have paid for their current period, so the first billing
-- run does not cancel them as unpaid.
insert into invoices (customer_id, installation_id, configuration_id, tariff_plan_id, paid_for, amount_minor, currency,
    period_start, period_end, state, issued_at, paid_at)
select i.customer_id, i.id, i.configuration_id, c.tariff_plan_id, 'rent', p.amount_minor, p.currency,
    i.current_period_start, i.current_period_end, 'paid', i.current_period_start, i.current_period_start + interval '1 day'
from installations i
join customers c on c.id = i.customer_id
join lateral (
    select amount_minor, currency from prices
    where configuration_id = i.configuration_id and kind = 'rent' and tariff_plan_id = c.tariff_plan_id
    order by valid_from desc limit 1
) p on true
where i.mode = 'rent' and i.state = 'active'
on conflict (installation_id, period_start) do nothing;

-- Purchases were paid for too.
insert into invoices (customer_id, installation_id, configuration_id, paid_for, amount_minor, currency, state, issued_at, paid_at)
select i.customer_id, i.id, i.configuration_id, 'purchase', p.amount_minor, p.currency, 'paid', i.created_at, i.created_at
from installations i
join lateral (
    select amount_minor, currency from prices where configuration_id = i.configuration_id and kind = 'sale'
    order by valid_from desc limit 1
) p on true
where i.mode = 'purchase' and not exists (select 1 from invoices v where v.installation_id = i.id);

insert into payments (customer_id, invoice_id, configuration_id, paid_for, amount_minor, currency, provider,
    provider_payment_id, received_at)
select v.customer_id, v.id, v.configuration_id, v.paid_for, v.amount_minor, v.currency, 'demo', 'demo-' || v.id, v.paid_at
from invoices v where v.state = 'paid'
on conflict (provider, provider_payment_id) do nothing;

-- The demo's statuses stand for this month: record this month's recompute
-- (on last month's sales) so the first job run keeps them as shown.
insert into developer_status_history (developer_id, status, sales_minor, sales_month, reason)
select d.id, d.status, 0, date_trunc('month', now() at time zone 'UTC' - interval '1 month')::date, 'monthly recompute'
from developers d
where not exists (select 1 from developer_status_history h where h.developer_id = d.id);
