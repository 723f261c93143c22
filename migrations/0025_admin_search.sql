-- The admins' queues and search (issue 22 item 1).
--
-- Search matches any part of a name, an e-mail, an INN or a CRM account id
-- (`ilike '%term%'`); trigram indexes serve that for terms of 3 or more
-- characters, which is why the API refuses shorter ones. pg_trgm is a
-- trusted extension (PostgreSQL 13+): the database's owner may create it.
create extension if not exists pg_trgm;

create index customers_name_trgm_idx on customers using gin (name gin_trgm_ops);
create index customers_inn_trgm_idx on customers using gin (inn gin_trgm_ops);
create index customers_crm_account_id_trgm_idx on customers using gin (crm_account_id gin_trgm_ops);
create index developers_name_trgm_idx on developers using gin (name gin_trgm_ops);
create index developers_slug_trgm_idx on developers using gin (slug gin_trgm_ops);
create index partners_name_trgm_idx on partners using gin (name gin_trgm_ops);
create index partners_inn_trgm_idx on partners using gin (inn gin_trgm_ops);
create index users_name_trgm_idx on users using gin (name gin_trgm_ops);
create index users_email_trgm_idx on users using gin (email gin_trgm_ops);

-- The queues page in (state, time, id) order: oldest requested payouts and
-- pins first, newest invoices first.
create index payouts_queue_idx on payouts (state, requested_at, id);
create index pins_queue_idx on pins (state, requested_at, id);
create index invoices_queue_idx on invoices (state, issued_at, id);
