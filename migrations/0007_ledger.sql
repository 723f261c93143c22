-- The ledger's guarantees, held by the database whatever the application
-- does: entries are append-only, and the entries of one payment (or one
-- refund) sum exactly to its amount (minus it, for a refund).

create function cm_ledger_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'ledger entries are append-only: write a correcting entry instead'
        using errcode = 'insufficient_privilege';
end $$;

create trigger ledger_entries_append_only before update or delete or truncate on ledger_entries
    for each statement execute function cm_ledger_append_only();

-- Checked at commit (deferred): a transaction may insert a payment's
-- entries one by one, but may not commit them unbalanced.
create function cm_ledger_balanced() returns trigger language plpgsql as $$
declare
    expected bigint;
    actual bigint;
begin
    if new.refund_id is null then
        select amount_minor into expected from payments where id = new.payment_id;
        select coalesce(sum(amount_minor), 0) into actual from ledger_entries
            where payment_id = new.payment_id and refund_id is null;
    else
        select -amount_minor into expected from refunds where id = new.refund_id;
        select coalesce(sum(amount_minor), 0) into actual from ledger_entries where refund_id = new.refund_id;
    end if;
    if actual is distinct from expected then
        raise exception 'ledger entries of payment % / refund % sum to %, not %',
            new.payment_id, new.refund_id, actual, expected
            using errcode = 'check_violation', constraint = 'ledger_entries_balanced';
    end if;
    return null;
end $$;

create constraint trigger ledger_entries_balanced after insert on ledger_entries
    deferrable initially deferred for each row execute function cm_ledger_balanced();

-- What a payment was for and when it happened, on every entry, so
-- earnings by period and by kind read the ledger alone.
alter table ledger_entries
    add column paid_for text check (paid_for in ('rent', 'purchase', 'plan', 'services')),
    add column configuration_id uuid references configurations (id),
    add column customer_id uuid references customers (id),
    add column occurred_at timestamptz;

create index ledger_entries_refund_idx on ledger_entries (refund_id) where refund_id is not null;
