-- Pay before access (SPEC §4): a new rental or purchase waits in
-- pending_payment, with no valid license and no backup, until its first
-- invoice is paid; unpaid when the invoice's payment window closes, the
-- invoice is void and the installation expired. A purchase may also expire
-- unpaid now.

alter table installations
    drop constraint installations_state_check,
    add constraint installations_state_check
        check (state in ('pending_payment', 'trialing', 'active', 'past_due', 'canceled', 'expired')),
    drop constraint installations_mode_state_check,
    add constraint installations_mode_state_check check (
        (mode = 'trial' and state in ('trialing', 'expired', 'canceled'))
        or (mode = 'rent' and state in ('pending_payment', 'trialing', 'active', 'past_due', 'canceled', 'expired'))
        or (mode = 'purchase' and state in ('pending_payment', 'active', 'past_due', 'canceled', 'expired'))
    ),
    -- A pending rental has no period yet: it starts when the first invoice
    -- is paid; one that expired unpaid never had one.
    drop constraint installations_rent_period_check,
    add constraint installations_rent_period_check check (mode <> 'rent' or current_period_start is not null
        or (billing_anchor is null and state in ('pending_payment', 'expired'))),
    -- Nothing to download before the purchase is paid.
    add constraint installations_backup_paid_check
        check (backup_ref is null or (mode = 'purchase' and state <> 'pending_payment'));

-- The first invoice of a rental or purchase (an acquisition) must be paid
-- before this instant; renewals have no such window and follow the dunning
-- rules instead (past due after 7 days, canceled after 14).
alter table invoices add column expires_at timestamptz,
    add constraint invoices_expires_check check (expires_at is null or expires_at > issued_at);
create index invoices_expiring_idx on invoices (expires_at) where state = 'open' and expires_at is not null;
