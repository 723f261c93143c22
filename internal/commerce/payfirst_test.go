package commerce_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/clock"
	"configmarket/internal/commerce"
	"configmarket/internal/factory"
	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// popularity is the storefront's count of a configuration's installations.
func (e *env) popularity(configurationID uuid.UUID) int {
	e.t.Helper()
	return e.count(`select active_installations from configurations where id = $1`, configurationID)
}

// setPrices makes every rent (on each plan) and the sale price of a
// configuration amount from now on.
func (e *env) setPrices(configurationID uuid.UUID, rentMinor, saleMinor int64) {
	e.t.Helper()
	from := e.clk.Now().Add(-time.Second)
	for _, code := range []string{"A", "B", "C", "D"} {
		e.setRent(configurationID, code, rentMinor, from)
	}
	if err := e.st.InsertPrice(e.ctx, store.Price{
		ConfigurationID: configurationID, Kind: "sale", Amount: rub(saleMinor), ValidFrom: from,
	}); err != nil {
		e.t.Fatal(err)
	}
}

// SPEC §4, pay before access: a new rental gives nothing until its first
// invoice is paid; paid within 48 hours it starts then, unpaid for 48 hours
// it expires and its invoice is void. Renting again starts no free time.
func TestRentalPendingUntilPaid48Hours(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	payer, lapser := e.customer(), e.customer()
	paid, unpaid := e.rent(payer, c.ID), e.rent(lapser, c.ID)

	for _, ch := range []commerce.Charge{paid, unpaid} {
		inst, inv := e.inst(*ch.InstallationID), e.invoice(*ch.InvoiceID)
		if inst.State != store.InstallationPendingPayment || inst.CurrentPeriodStart != nil || inst.BackupRef != nil {
			t.Errorf("new rental = %s period %s; want pending_payment with no period", inst.State, fmtTime(inst.CurrentPeriodStart))
		}
		if inv.State != store.InvoiceOpen || !sameTime(inv.ExpiresAt, e.start.Add(48*time.Hour)) || inv.PeriodStart != nil {
			t.Errorf("first invoice %s expires %s period %s; want open, 48 hours, no period yet", inv.State, fmtTime(inv.ExpiresAt), fmtTime(inv.PeriodStart))
		}
	}
	if lic := e.license(payer, e.inst(*paid.InstallationID).LicenseKey); lic.Valid {
		t.Errorf("license valid before payment")
	}
	if n := e.popularity(c.ID); n != 0 {
		t.Errorf("pending rentals counted as %d installations", n)
	}

	// 47 hours on, both still wait; the payer pays.
	payAt := e.at(47 * time.Hour)
	if r := e.bill(); r.UnpaidExpired != 0 {
		t.Errorf("expired %d at 47 hours", r.UnpaidExpired)
	}
	e.pay(e.invoice(*paid.InvoiceID))
	inst := e.inst(*paid.InstallationID)
	if inst.State != store.InstallationActive || !sameTime(inst.CurrentPeriodStart, payAt) || !sameTime(inst.CurrentPeriodEnd, clock.AddMonths(payAt, 1)) ||
		!sameTime(inst.BillingAnchor, payAt) {
		t.Errorf("paid rental %s [%s, %s); want active from the payment %s", inst.State, fmtTime(inst.CurrentPeriodStart),
			fmtTime(inst.CurrentPeriodEnd), payAt.Format(time.RFC3339))
	}
	if inv := e.invoice(*paid.InvoiceID); !sameTime(inv.PeriodStart, payAt) || !sameTime(inv.PeriodEnd, clock.AddMonths(payAt, 1)) {
		t.Errorf("paid invoice covers [%s, %s), want the period from the payment", fmtTime(inv.PeriodStart), fmtTime(inv.PeriodEnd))
	}
	lic := e.license(payer, inst.LicenseKey)
	if !lic.Valid || lic.ValidUntil == nil || !lic.ValidUntil.Equal(clock.AddMonths(payAt, 1)) {
		t.Errorf("paid license = %+v", lic)
	}
	if n := e.popularity(c.ID); n != 1 {
		t.Errorf("popularity %d after one payment, want 1", n)
	}

	// At 48 hours the unpaid one expires and its invoice is void.
	e.at(48 * time.Hour)
	if r := e.bill(); r.UnpaidExpired != 1 {
		t.Errorf("expired %d at 48 hours, want 1", r.UnpaidExpired)
	}
	gone, inv := e.inst(*unpaid.InstallationID), e.invoice(*unpaid.InvoiceID)
	if gone.State != store.InstallationExpired || inv.State != store.InvoiceVoid || !sameTime(inv.VoidedAt, e.start.Add(48*time.Hour)) {
		t.Errorf("unpaid after 48 hours: %s, invoice %s voided %s", gone.State, inv.State, fmtTime(inv.VoidedAt))
	}
	if e.license(lapser, gone.LicenseKey).Valid {
		t.Errorf("expired rental's license valid")
	}
	if _, err := e.svc.RecordPayment(e.ctx, e.admin.Viewer(), inv.ID, inv.Amount, "late transfer", "late"); code(err) != "INVOICE_NOT_OPEN" {
		t.Errorf("paying the void invoice: %s, want INVOICE_NOT_OPEN", code(err))
	}
	if n := e.count(`select count(*) from audit_log where action = 'billing.expireUnpaid' and target = $1`,
		globalInstallation(gone.ID)); n != 1 {
		t.Errorf("%d audit rows for the expiry, want 1", n)
	}

	// Renting again is allowed, and again gives nothing before payment.
	again := e.rent(lapser, c.ID)
	if *again.InstallationID != gone.ID || *again.InvoiceID == inv.ID {
		t.Errorf("renting again: installation %s invoice %s", *again.InstallationID, *again.InvoiceID)
	}
	if got := e.inst(gone.ID); got.State != store.InstallationPendingPayment || e.license(lapser, got.LicenseKey).Valid {
		t.Errorf("rented again: %s", got.State)
	}
	// The billing run alone never activates it: 14 days on it is expired.
	e.at(16 * day)
	e.bill()
	if got := e.inst(gone.ID); got.State != store.InstallationExpired || e.license(lapser, got.LicenseKey).Valid {
		t.Errorf("renting twice unpaid: %s", got.State)
	}
}

// An invoice paid after its 48 hours, before the billing run voided it, is
// refused all the same: the payment is kept unapplied for an admin.
func TestFirstInvoicePaidAfterWindowIsRefused(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{})
	cust := e.customer()
	ch := e.rent(cust, c.ID)
	e.at(48 * time.Hour)
	inv := e.invoice(*ch.InvoiceID)
	out, err := e.svc.HandleProviderEvent(e.ctx, commerce.ProviderPayment{
		Provider: "testpay", EventID: "late-" + uuid.NewString(), PaymentID: "late-" + uuid.NewString(),
		InvoiceID: inv.ID, Amount: inv.Amount, PaidAt: e.clk.Now(),
	}.Event())
	if err != nil || out.Applied || out.Unapplied == nil || out.Unapplied.Reason != store.ReasonInvoiceNotOpen {
		t.Errorf("paid at 48 hours: %+v %v, want kept as invoice_not_open", out, err)
	}
	if got := e.inst(*ch.InstallationID); got.State != store.InstallationPendingPayment {
		t.Errorf("refused payment changed the rental to %s", got.State)
	}
	if n := e.count(`select count(*) from payments where invoice_id = $1`, inv.ID); n != 0 {
		t.Errorf("%d payments recorded for a refused payment", n)
	}
}

// SPEC §4: buying over a running rental leaves the rental (and what it
// owes) alone until the purchase is paid; unpaid for 48 hours only the
// purchase's invoice goes.
func TestPurchaseOverRentalVoidsOnlyWhenPaid(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{SaleMinor: 3500000, Versions: []store.VersionKey{{Major: 1}}})
	cust := e.customer()
	rent := e.rentPaid(cust, c.ID)
	instID := *rent.InstallationID
	e.clk.Set(clock.AddMonths(e.start, 1))
	e.bill()
	renewal := e.invoices(instID)[1]
	if renewal.State != store.InvoiceOpen || renewal.ExpiresAt != nil {
		t.Fatalf("renewal invoice %+v", renewal)
	}

	first, err := e.svc.Buy(e.ctx, cust.Viewer(), c.ID, "buy-1")
	if err != nil {
		t.Fatal(err)
	}
	if *first.InstallationID != instID {
		t.Fatalf("purchase made another installation")
	}
	got := e.inst(instID)
	if got.Mode != store.ModeRent || got.State != store.InstallationActive || got.BackupRef != nil || e.invoice(renewal.ID).State != store.InvoiceOpen {
		t.Errorf("unpaid purchase changed the rental: %s/%s backup %v, renewal %s", got.Mode, got.State, got.BackupRef != nil,
			e.invoice(renewal.ID).State)
	}
	if lic := e.license(cust, got.LicenseKey); !lic.Valid || lic.Mode != store.ModeRent {
		t.Errorf("rental's license during the unpaid purchase = %+v", lic)
	}
	// 48 hours later the purchase invoice is void; the rental goes on.
	e.clk.Set(clock.AddMonths(e.start, 1).Add(48 * time.Hour))
	e.bill()
	if inv := e.invoice(*first.InvoiceID); inv.State != store.InvoiceVoid {
		t.Errorf("unpaid purchase invoice is %s after 48 hours", inv.State)
	}
	if got := e.inst(instID); got.Mode != store.ModeRent || got.State != store.InstallationActive {
		t.Errorf("rental after the purchase lapsed: %s/%s", got.Mode, got.State)
	}

	// Bought again and paid: a purchase with its backup, and the rent no
	// longer owed.
	v2 := e.newVersion(c.ID, store.VersionKey{Major: 2})
	second, err := e.svc.Buy(e.ctx, cust.Viewer(), c.ID, "buy-2")
	if err != nil {
		t.Fatal(err)
	}
	e.pay(e.invoice(*second.InvoiceID))
	got = e.inst(instID)
	if got.Mode != store.ModePurchase || got.State != store.InstallationActive || got.BackupRef == nil || got.VersionID != v2.ID || got.CurrentPeriodEnd != nil {
		t.Errorf("paid purchase = %+v", got)
	}
	if inv := e.invoice(renewal.ID); inv.State != store.InvoiceVoid {
		t.Errorf("the replaced rental's invoice is %s, want void", inv.State)
	}
	if lic := e.license(cust, got.LicenseKey); !lic.Valid || lic.Mode != store.ModePurchase || lic.ValidUntil != nil {
		t.Errorf("purchase license = %+v", lic)
	}
}

// SPEC §4: a configuration priced 0.00 is free: renting or buying it
// activates at once with no invoice and no ledger entry, and a free rental
// renews without invoices.
func TestFreeConfiguration(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{SaleMinor: 3500000})
	e.setPrices(c.ID, 0, 0)
	renter, buyer := e.customer(), e.customer()

	ch, err := e.svc.Rent(e.ctx, renter.Viewer(), c.ID, "free-rent")
	if err != nil {
		t.Fatal(err)
	}
	if ch.InvoiceID != nil {
		t.Errorf("free rental invoiced")
	}
	inst := e.inst(*ch.InstallationID)
	if inst.State != store.InstallationActive || !sameTime(inst.CurrentPeriodEnd, clock.AddMonths(e.start, 1)) || !e.license(renter, inst.LicenseKey).Valid {
		t.Errorf("free rental = %s until %s", inst.State, fmtTime(inst.CurrentPeriodEnd))
	}
	bought, err := e.svc.Buy(e.ctx, buyer.Viewer(), c.ID, "free-buy")
	if err != nil {
		t.Fatal(err)
	}
	if bought.InvoiceID != nil {
		t.Errorf("free purchase invoiced")
	}
	if p := e.inst(*bought.InstallationID); p.State != store.InstallationActive || p.Mode != store.ModePurchase || p.BackupRef == nil || !e.license(buyer, p.LicenseKey).Valid {
		t.Errorf("free purchase = %+v", p)
	}
	if n := e.count(`select count(*) from invoices where configuration_id = $1`, c.ID); n != 0 {
		t.Errorf("%d invoices for a free configuration", n)
	}
	if n := e.count(`select count(*) from ledger_entries where configuration_id = $1`, c.ID); n != 0 {
		t.Errorf("%d ledger entries for a free configuration", n)
	}

	// Past day 14 and past the period end it is still active: renewed, free.
	for _, d := range []int{15, 31, 62, 95} {
		e.at(time.Duration(d) * day)
		e.bill()
		if got := e.inst(inst.ID); got.State != store.InstallationActive || !e.license(renter, got.LicenseKey).Valid {
			t.Errorf("day %d: free rental %s", d, got.State)
		}
	}
	got := e.inst(inst.ID)
	if got.PeriodNumber != 3 || len(e.invoices(inst.ID)) != 0 {
		t.Errorf("after 95 days: period %d with %d invoices, want period 3 and none", got.PeriodNumber, len(e.invoices(inst.ID)))
	}

	// A price set later is billed from the next period, as any price change.
	e.setRent(c.ID, "A", 30000, e.clk.Now())
	e.setRent(c.ID, "B", 50000, e.clk.Now())
	e.clk.Set(*got.CurrentPeriodEnd)
	e.bill()
	if invs := e.invoices(inst.ID); len(invs) != 1 || invs[0].Amount.IsZero() || invs[0].ExpiresAt != nil {
		t.Errorf("after the price rose: %+v, want one renewal invoice", invs)
	}
}

func globalInstallation(id uuid.UUID) string { return relay.UUIDID("Installation", id) }
