-- Every provider event is kept (issue 19). The webhook takes payments,
-- refunds and chargebacks; an event whose money the books cannot take is
-- kept as an unapplied payment until an admin applies it to an open invoice
-- or returns it to the payer; a chargeback holds the license of what the
-- payment paid for until an admin restores it.

-- The raw body of every event, whatever became of it (rows from before
-- this migration have none).
alter table provider_events add column payload jsonb;

-- A refund names its kind and, when the provider reported it, the
-- provider's id of it: each provider refund or chargeback applies once,
-- whatever event carries it.
alter table refunds
    add column kind text not null default 'refund' constraint refunds_kind_check check (kind in ('refund', 'chargeback')),
    add column provider text,
    add column provider_refund_id text,
    add constraint refunds_provider_check check ((provider is null) = (provider_refund_id is null));
create unique index refunds_provider_key on refunds (provider, kind, provider_refund_id) where provider is not null;

create table unapplied_payments (
    id                  uuid primary key default gen_random_uuid(),
    provider            text not null,
    event_id            text not null,
    kind                text not null constraint unapplied_payments_kind_check check (kind in ('payment', 'refund', 'chargeback')),
    -- The provider's payment id; for a refund or chargeback, of the payment
    -- it takes back, and its own id too.
    provider_payment_id text not null,
    provider_refund_id  text,
    amount_minor        bigint not null,
    currency            char(3) not null check (currency ~ '^[A-Z]{3}$'),
    -- What the event named, when it is ours.
    invoice_id          uuid references invoices (id),
    payment_id          uuid references payments (id),
    occurred_at         timestamptz not null,
    reason              text not null constraint unapplied_payments_reason_check check (reason in (
        'invoice_unknown', 'invoice_not_open', 'amount_mismatch', 'currency_mismatch', 'amount_invalid',
        'paid_before_issue', 'paid_in_future', 'duplicate_payment', 'payment_unknown', 'refund_exceeds_payment',
        'refused')),
    reason_text         text not null,
    event               jsonb not null,
    received_at         timestamptz not null,
    state               text not null default 'open' constraint unapplied_payments_state_check check (state in ('open', 'applied', 'returned')),
    resolved_at         timestamptz,
    resolved_by         uuid references users (id),
    note                text,
    -- The payment an admin recorded from it, and the invoice it paid.
    applied_payment_id  uuid references payments (id),
    applied_invoice_id  uuid references invoices (id),
    constraint unapplied_payments_event_key unique (provider, event_id),
    check ((state = 'open') = (resolved_at is null)),
    check ((state = 'open') = (resolved_by is null)),
    check ((state = 'applied') = (applied_payment_id is not null)),
    check (kind = 'payment' or state <> 'applied'),
    check ((kind = 'payment') = (provider_refund_id is null))
);
-- The provider's money is kept once, as it is applied once: a payment by
-- its payment id, a refund or chargeback by its own id.
create unique index unapplied_payments_payment_key on unapplied_payments (provider, provider_payment_id) where kind = 'payment';
create unique index unapplied_payments_refund_key on unapplied_payments (provider, kind, provider_refund_id) where kind <> 'payment';
create index unapplied_payments_received_idx on unapplied_payments (received_at desc, id desc);
create index unapplied_payments_state_idx on unapplied_payments (state, received_at desc, id desc);

-- Money data the platform alone handles: only the platform (the webhook)
-- and admins read or write it, as with the ledger (0014).
alter table unapplied_payments enable row level security;
create policy unapplied_payments_platform on unapplied_payments for all to cm_app
    using ((select cm_subject_kind()) in ('system', 'admin'))
    with check ((select cm_subject_kind()) in ('system', 'admin'));
revoke delete on unapplied_payments from cm_app;

-- A chargeback holds the license of the installation its payment paid
-- for until an admin restores it, with a note.
create table license_holds (
    id              uuid primary key default gen_random_uuid(),
    installation_id uuid not null references installations (id),
    refund_id       uuid not null references refunds (id),
    held_at         timestamptz not null,
    restored_at     timestamptz,
    restored_by     uuid references users (id),
    note            text,
    check ((restored_at is null) = (restored_by is null)),
    check ((restored_at is null) = (note is null))
);
create index license_holds_live_idx on license_holds (installation_id) where restored_at is null;
