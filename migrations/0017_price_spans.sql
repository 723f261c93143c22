-- Every storefront card shows the prices in force. Picking them out of the
-- history (the newest row of each kind and plan that is not in the future)
-- sorted each configuration's prices on every read: a fifth of the
-- storefront page's database time. Each row now also records when the next
-- row of its kind and plan replaced it, so the rows in force are the ones
-- whose span holds now. Amounts and start times still never change.
alter table prices add column valid_until timestamptz;

update prices p set valid_until = n.next_from
from (
    select id, lead(valid_from) over (partition by configuration_id, kind, tariff_plan_id order by valid_from) as next_from
    from prices
) n
where n.id = p.id and n.next_from is not null;

alter table prices add constraint prices_span_check check (valid_until > valid_from);

-- A new row ends the span of the row it replaces and ends where a row
-- scheduled after it starts. Price changes of one configuration are
-- serialised by its row lock (taken here too, whoever inserts), so no two
-- of these race.
create function prices_span() returns trigger language plpgsql as $$
begin
    perform 1 from configurations where id = new.configuration_id for update;
    update prices set valid_until = new.valid_from
    where configuration_id = new.configuration_id and kind = new.kind
        and tariff_plan_id is not distinct from new.tariff_plan_id
        and valid_from < new.valid_from
        and (valid_until is null or valid_until > new.valid_from);
    select min(valid_from) into new.valid_until from prices
    where configuration_id = new.configuration_id and kind = new.kind
        and tariff_plan_id is not distinct from new.tariff_plan_id
        and valid_from > new.valid_from;
    return new;
end $$;

create trigger prices_span before insert on prices
    for each row execute function prices_span();
