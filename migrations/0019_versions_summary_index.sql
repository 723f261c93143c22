-- A storefront card reads the summary of its newest versions (id, number,
-- state) by versions_configuration_idx and then visited the table for each
-- of them: four heap visits a card, 200 a page. With the state stored in
-- the index as well, those reads are index-only scans. The index keeps its
-- key, so every read it served it still serves.
create index versions_configuration_summary_idx on versions (configuration_id, major desc, minor desc, patch desc, id)
    include (state);
drop index versions_configuration_idx;
