package resolvers

import (
	"slices"
	"strings"
	"testing"

	"configmarket/graph/model"
	"configmarket/internal/earnings"
	"configmarket/internal/store"
)

// TestEnumNameIsToUpper: the shared enum names are exactly what
// strings.ToUpper made of the database's values, known or not.
func TestEnumNameIsToUpper(t *testing.T) {
	if len(enumNames) < 40 {
		t.Fatalf("only %d enum values known", len(enumNames))
	}
	values := []string{"", "unknown_value", "Mixed", "in_review"}
	for db := range enumNames {
		values = append(values, db)
	}
	for _, v := range values {
		if got, want := enumName(v), strings.ToUpper(v); got != want {
			t.Errorf("enumName(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestStoreVocabulariesMatchTheSchema: every typed database vocabulary maps
// through toEnum onto a value of its GraphQL enum and back through fromEnum,
// and the two have the same number of values.
func TestStoreVocabulariesMatchTheSchema(t *testing.T) {
	sameVocabulary(t, model.AllInstallationState, store.InstallationPendingPayment, store.InstallationTrialing,
		store.InstallationActive, store.InstallationPastDue, store.InstallationCanceled, store.InstallationExpired)
	sameVocabulary(t, model.AllInstallationMode, store.ModeTrial, store.ModeRent, store.ModePurchase)
	sameVocabulary(t, model.AllInvoiceState, store.InvoiceOpen, store.InvoicePaid, store.InvoiceVoid)
	sameVocabulary(t, model.AllPinState, store.PinPending, store.PinActive, store.PinDeclined,
		store.PinExpired, store.PinRefused, store.PinReleased)
	sameVocabulary(t, model.AllPayoutState, store.PayoutRequested, store.PayoutPaid, store.PayoutFailed)
	sameVocabulary(t, model.AllLedgerParty, store.PartyDeveloper, store.PartyPartner, store.PartyPlatform)
	sameVocabulary(t, model.AllUnappliedPaymentState, store.UnappliedOpen, store.UnappliedApplied, store.UnappliedReturned)
	sameVocabulary(t, model.AllConfigurationState, store.ConfigurationDraft, store.ConfigurationPublished,
		store.ConfigurationSuspended, store.ConfigurationArchived)
	sameVocabulary(t, model.AllVersionState, store.VersionDraft, store.VersionInReview, store.VersionApproved, store.VersionRejected)
	sameVocabulary(t, model.AllVisibility, store.VisibilityPublic, store.VisibilityUnlisted, store.VisibilityPrivate)
	sameVocabulary(t, model.AllSupportMode, store.SupportDeveloper, store.SupportPlatform)
	sameVocabulary(t, model.AllSaleMode, store.PriceRent, store.PriceSale)
	sameVocabulary(t, model.AllPaidFor, store.PaidForRent, store.PaidForPurchase, store.PaidForPlan, store.PaidForServices)
	sameVocabulary(t, model.AllPayoutMethod, store.PayoutEWallet, store.PayoutBankCard, store.PayoutBankAccount)
	sameVocabulary(t, model.AllEarningsGrouping, store.ByMonth, store.ByPaidFor, store.ByCustomer, store.ByConfiguration)
	sameVocabulary(t, model.AllDeveloperStatus, earnings.StatusBasic, earnings.StatusStandard, earnings.StatusPremium)
	sameVocabulary(t, model.AllPartnerStatus, earnings.PartnerAgent, earnings.PartnerDealer, earnings.PartnerIntegrator)
}

func sameVocabulary[G, D ~string](t *testing.T, graph []G, db ...D) {
	t.Helper()
	if len(graph) != len(db) {
		t.Errorf("%T has %d values, %T %d", graph, len(graph), db, len(db))
	}
	for _, d := range db {
		g := toEnum[G](d)
		if !slices.Contains(graph, g) {
			t.Errorf("%T %q maps to %q, not a value of %T", d, d, g, graph)
		}
		if back := fromEnum[D](g); back != d {
			t.Errorf("%T %q comes back as %q", d, d, back)
		}
	}
}
