-- A party's views read its entries newest first and sum them by month, so
-- each party column gets an index in occurrence order; the 0004 indexes
-- ordered by created_at served neither (and the balance, which scans all of
-- a party's entries, is served by these as well).
create index ledger_entries_developer_occurred_idx on ledger_entries (developer_id, occurred_at desc, id desc)
    where developer_id is not null;
create index ledger_entries_partner_occurred_idx on ledger_entries (partner_id, occurred_at desc, id desc)
    where partner_id is not null;
drop index ledger_entries_developer_idx;
drop index ledger_entries_partner_idx;
