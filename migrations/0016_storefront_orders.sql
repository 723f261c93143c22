-- The storefront's other orders get what popularity has: a partial index
-- in the order's own expression, so the first page (and every next one, by
-- keyset) reads only its rows whatever the catalog's size. The rating
-- expression is the one StorefrontPage sorts by, character for character.
create index configurations_newest_idx on configurations (published_at desc, id desc)
    where state = 'published' and visibility = 'public';
create index configurations_rating_idx on configurations (
    (case when rating_count = 0 then 0 else round(rating_sum::numeric / rating_count, 4) end) desc, id desc)
    where state = 'published' and visibility = 'public';
