-- Storefront: search, rating and popularity counters, moderation history.

create extension if not exists pg_trgm;

-- array_to_string is only stable; tags of a row never change meaning, so
-- this wrapper may be immutable and feed the generated search column.
create function cm_tags_text(tags text[]) returns text
    language sql immutable parallel safe
    return coalesce(array_to_string(tags, ' '), '');

alter table configurations
    add column rating_count integer not null default 0 constraint configurations_rating_count_check check (rating_count >= 0),
    add column rating_sum integer not null default 0 constraint configurations_rating_sum_check check (rating_sum >= 0),
    -- Installations that are trialing, active or past due: the storefront's popularity.
    add column active_installations integer not null default 0
        constraint configurations_active_installations_check check (active_installations >= 0),
    add column suspended_reason text,
    -- Stemmed in Russian and English, plus unstemmed words for prefix search.
    add column search tsvector generated always as (
        setweight(to_tsvector('russian', title), 'A') || setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', cm_tags_text(tags)), 'A')
        || setweight(to_tsvector('russian', summary), 'B') || setweight(to_tsvector('english', summary), 'B')
    ) stored;

create index configurations_search_idx on configurations using gin (search);
create index configurations_title_trgm_idx on configurations using gin (title gin_trgm_ops);
create index configurations_tags_idx on configurations using gin (tags);
create index configurations_title_lower_idx on configurations (lower(title));
create index configurations_storefront_idx on configurations (active_installations desc, id desc)
    where state = 'published' and visibility = 'public';

-- Counters kept by triggers stay right under concurrent writes: each change
-- is an atomic increment on the configuration row.
create function cm_reviews_rating() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        update configurations set rating_count = rating_count - 1, rating_sum = rating_sum - old.rating
        where id = old.configuration_id;
    end if;
    if tg_op in ('INSERT', 'UPDATE') then
        update configurations set rating_count = rating_count + 1, rating_sum = rating_sum + new.rating
        where id = new.configuration_id;
    end if;
    return null;
end $$;

create trigger reviews_rating after insert or update of rating, configuration_id or delete on reviews
    for each row execute function cm_reviews_rating();

create function cm_installations_active() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') and old.state in ('trialing', 'active', 'past_due') then
        update configurations set active_installations = active_installations - 1 where id = old.configuration_id;
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.state in ('trialing', 'active', 'past_due') then
        update configurations set active_installations = active_installations + 1 where id = new.configuration_id;
    end if;
    return null;
end $$;

create trigger installations_active after insert or update of state, configuration_id or delete on installations
    for each row execute function cm_installations_active();

create index versions_review_queue_idx on versions (submitted_at, id) where state = 'in_review';
create index versions_configuration_idx on versions (configuration_id, major desc, minor desc, patch desc, id);
create index reviews_configuration_idx on reviews (configuration_id, created_at desc, id desc);

-- Every moderation step, visible to the configuration's developer.
create table moderation_events (
    id               uuid primary key default gen_random_uuid(),
    configuration_id uuid not null references configurations (id),
    version_id       uuid references versions (id),
    action           text not null constraint moderation_events_action_check
                     check (action in ('submitted', 'approved', 'rejected', 'suspended', 'restored', 'archived')),
    reason           text,
    actor_user_id    uuid references users (id),
    created_at       timestamptz not null default now()
);
create index moderation_events_configuration_idx on moderation_events (configuration_id, created_at, id);
