-- Live activity for developers and moderators, announced on commit like
-- the ledger: installation lifecycle steps and moderation steps.

create function cm_installation_notify() returns trigger language plpgsql as $$
declare
    kind text;
begin
    if tg_op = 'INSERT' then
        kind := case when new.mode = 'trial' then 'TRIAL_STARTED' else 'INSTALLED' end;
    elsif old.mode = 'trial' and new.mode = 'rent' then
        kind := 'TRIAL_CONVERTED';
    elsif old.mode <> new.mode then
        kind := 'INSTALLED';
    elsif new.state = 'expired' and old.state <> 'expired' then
        kind := 'TRIAL_EXPIRED';
    elsif new.state = 'canceled' and old.state <> 'canceled' then
        kind := 'CANCELED';
    elsif new.state <> old.state then
        kind := 'STATE_CHANGED';
    else
        return null;
    end if;
    perform pg_notify('cm_activity', json_build_object(
        'kind', kind, 'id', new.id, 'configuration', new.configuration_id,
        'developer', (select developer_id from configurations where id = new.configuration_id)
    )::text);
    return null;
end $$;

create trigger installations_notify after insert or update of mode, state on installations
    for each row execute function cm_installation_notify();

create function cm_moderation_notify() returns trigger language plpgsql as $$
begin
    perform pg_notify('cm_activity', json_build_object(
        'kind', upper(new.action), 'id', new.id, 'configuration', new.configuration_id, 'version', new.version_id,
        'developer', (select developer_id from configurations where id = new.configuration_id)
    )::text);
    return null;
end $$;

create trigger moderation_events_notify after insert on moderation_events
    for each row execute function cm_moderation_notify();
