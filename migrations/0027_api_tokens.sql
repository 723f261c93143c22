-- API tokens (issue 22 item 7): long-lived credentials a user makes for its
-- integrations (a developer's CI publishing versions), each acting in ONE
-- role the user holds, for one organisation, until it expires or is
-- revoked. Only a SHA-256 of the secret is stored; its first characters
-- (prefix) are kept so a list can tell tokens apart without the secret.
create table api_tokens (
    id           uuid primary key default gen_random_uuid(),
    user_id      uuid not null references users (id),
    name         text not null check (length(name) between 1 and 100),
    -- Admins get no API token: the platform's staff act in sessions only,
    -- from ADMIN_NETWORKS.
    role         text not null constraint api_tokens_role_check check (role in ('customer', 'developer', 'partner')),
    acting_for   uuid not null,
    token_hash   bytea not null constraint api_tokens_token_hash_key unique check (length(token_hash) = 32),
    prefix       text not null check (prefix ~ '^cm_[a-z2-7]{8}$'),
    created_at   timestamptz not null,
    expires_at   timestamptz not null,
    -- Updated at most about once a minute per token (not on every request).
    last_used_at timestamptz,
    revoked_at   timestamptz,
    constraint api_tokens_expiry_check check (expires_at > created_at)
);
create index api_tokens_user_idx on api_tokens (user_id, created_at desc, id desc);

-- A mutation made with an API token says which one in its audit row. The
-- hash chain covers the new column the way 0023 added its own: one tagged
-- segment at the end, NULL (and so skipped by concat_ws) for every row
-- without a token, so every earlier row hashes exactly as before.
alter table audit_log add column api_token_id uuid references api_tokens (id);

create or replace function cm_audit_row_text(a audit_log) returns text language sql immutable
    return concat_ws('|', a.id, extract(epoch from a.at), a.actor_user_id, a.role, a.action, a.target, a.result, a.request_id,
        'amount=' || a.amount_minor || ' ' || a.currency,
        'event=' || a.event_id,
        'token=' || a.api_token_id);

-- The second wall, as for money data (0014): a token row is its user's
-- alone. Each transaction names its user with set_config('cm.user', ...,
-- true) beside its subject; authentication looks a presented token up as
-- the platform ('system'), before anyone is known. Admins are no
-- exception: nobody lists or revokes another user's tokens.
create function cm_user_id() returns uuid language sql stable
    return nullif(coalesce(current_setting('cm.user', true), ''), '')::uuid;

alter table api_tokens enable row level security;
create policy api_tokens_owner on api_tokens for all to cm_app
    using ((select cm_subject_kind()) = 'system' or user_id = (select cm_user_id()))
    with check ((select cm_subject_kind()) = 'system' or user_id = (select cm_user_id()));
-- Revoked tokens stay, so audit rows keep naming them.
revoke delete on api_tokens from cm_app;
