-- Live events: every ledger entry is announced on channel cm_ledger. NOTIFY
-- is transactional: listeners on every server instance hear it only after
-- the payment's transaction commits, and never for one that rolled back.
create function cm_ledger_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('cm_ledger', json_build_object(
        'id', new.id, 'party', new.party, 'developer', new.developer_id, 'partner', new.partner_id
    )::text);
    return null;
end $$;

create trigger ledger_entries_notify after insert on ledger_entries
    for each row execute function cm_ledger_notify();
