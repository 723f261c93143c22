-- Issue 22 item 2: the numbers SPEC calls defaults live here, so an admin can
-- change them without a release (internal/settings holds each key's type,
-- unit, range and default; this file seeds the same defaults).

-- One row per setting: its value in the key's unit (days, hours, minutes,
-- kopecks, a count), and who set it last (null: the seed).
create table settings (
    key        text primary key,
    value      bigint not null,
    updated_at timestamptz not null default now(),
    updated_by uuid references users (id)
);

-- Every change, in the order written: the value before and after, who and when.
create table settings_history (
    id         bigint generated always as identity primary key,
    key        text not null references settings (key),
    old_value  bigint not null,
    new_value  bigint not null,
    changed_by uuid references users (id),
    changed_at timestamptz not null
);
create index settings_history_key_idx on settings_history (key, id desc);

-- The history is append-only for the server's role, and settings are never
-- removed (the code knows every key).
revoke update, delete on settings_history from cm_app;
revoke delete on settings from cm_app;

-- SPEC's defaults.
insert into settings (key, value) values
    ('payout.hold_days', 14),
    ('payout.minimum', 100000),
    ('status.standard_sales', 500000),
    ('status.premium_sales', 2500000),
    ('pin.term_days', 90),
    ('pin.pending_expiry_days', 14),
    ('rental.past_due_days', 7),
    ('rental.cancel_days', 14),
    ('access.payment_window_hours', 48),
    ('trial.default_days', 14),
    ('trial.max_days', 30),
    ('trial.retention_days', 30),
    ('login.max_account_failures', 10),
    ('login.max_ip_failures', 50),
    ('login.failure_window_minutes', 15);
