// Package privacy holds the domain's accounting of private data (issue 21
// item 3, Coder's dbauthz idea): every exported function under internal/
// that takes a viewer is enumerated from the source, and each one that
// reads data is called here as strangers, who must read nothing, and as
// its owner, who must read something. A new viewer-taking function that is
// in neither table fails TestEveryViewerTakingFunctionIsAccounted.
//
// The rule it holds: who may read what is an exported predicate with a
// `// SECURITY:` line in the domain (MayRead...). A read of one owner's
// data answers a stranger apperr.Hidden and the zero value; a read by ids
// leaves out, or does not find, what the viewer may not read, exactly like
// an id that does not exist; a read of public data gives every stranger
// the public part only.
package privacy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"configmarket/internal/account"
	"configmarket/internal/apperr"
	"configmarket/internal/auditlog"
	"configmarket/internal/catalog"
	"configmarket/internal/commerce"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/packages"
	"configmarket/internal/pins"
	"configmarket/internal/relay"
	"configmarket/internal/settings"
	"configmarket/internal/store"
)

// kind is how a read answers a stranger.
type kind int

const (
	// hidden: the call names one owner's data; a stranger gets the zero
	// value and apperr.Hidden.
	hidden kind = iota + 1
	// absent: the call names ids (a loader's batch, one id of a route); a
	// stranger gets no row for them, or NotFound, as for ids that do not
	// exist.
	absent
	// scoped: every viewer reads the public part, or its own (none:
	// apperr.Hidden); what only the readers may see (private) never
	// reaches a stranger.
	scoped
	// predicate: a MayRead rule; false for every stranger.
	predicate
)

// read is one viewer-taking read and how to call it on the world.
type read struct {
	kind kind
	// readers are the world's accounts that may read it besides admins;
	// the first one proves that the read works. None: admins only.
	readers []string
	call    func(w *world, v identity.Viewer) (any, error)
	// private, for a scoped read, is what no stranger's answer may hold
	// (ids, words); readersSee: the first reader's answer holds some.
	private    func(w *world) []string
	readersSee bool
}

func ids(id ...uuid.UUID) []uuid.UUID { return id }

func devEntries(w *world) earnings.EntryFilter {
	return earnings.EntryFilter{Party: store.PartyDeveloper, PartyID: w.developer.OrgID}
}

// reads are the viewer-taking functions that read data, by name
// ("package.Func" or "package.Type.Method").
var reads = map[string]read{
	// catalog
	"catalog.MayReadPrivate": {kind: predicate, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return catalog.MayReadPrivate(v, w.developer.OrgID), nil
	}},
	"catalog.Private": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return catalog.Private(v, w.developer.OrgID, w.suspended.SuspendedReason)
	}},
	"catalog.ActivityOf": {kind: scoped, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return catalog.ActivityOf(v)
	}, private: func(w *world) []string { return []string{w.developer.OrgID.String()} }, readersSee: true},
	"catalog.FollowModeration": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		err := catalog.FollowModeration(v)
		return err == nil, err
	}},
	"catalog.VersionStates": {kind: scoped, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return catalog.VersionStates(v, w.sold), nil
	}, private: func(*world) []string { return []string{"rejected", "in_review"} }, readersSee: true},
	"catalog.VisibleIn": {kind: absent, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return catalog.VisibleIn(w.ctx, w.st.Queries, v, ids(w.draft.ID))
	}},
	"catalog.Service.ConfigurationBySlug": {kind: absent, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		c, _, err := w.catalog.ConfigurationBySlug(w.ctx, v, w.draft.Slug, catalog.Cards{})
		return c, err
	}},
	"catalog.Service.ConfigurationsByIDs": {kind: absent, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.ConfigurationsByIDs(w.ctx, v, ids(w.draft.ID))
	}},
	// Only admins search the directory (by e-mail here); anyone may page it.
	"catalog.Service.Developers": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.Developers(w.ctx, v, &w.developer.Email, relay.PageArgs{WithTotal: true})
	}},
	"catalog.Service.DeveloperConfigurations": {kind: scoped, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.DeveloperConfigurations(w.ctx, v, w.developer.OrgID, nil, nil)
	}, private: func(w *world) []string { return []string{w.draft.ID.String()} }, readersSee: true},
	"catalog.Service.PriceHistory": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.PriceHistory(w.ctx, v, w.sold)
	}},
	"catalog.Service.ReviewQueue": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.ReviewQueue(w.ctx, v, nil, nil)
	}},
	"catalog.Service.ReviewsByIDs": {kind: absent, readers: []string{"customer", "developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.ReviewsByIDs(w.ctx, v, ids(w.review))
	}},
	"catalog.Service.Storefront": {kind: scoped, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.Storefront(w.ctx, v, catalog.StorefrontArgs{})
	}, private: func(w *world) []string { return []string{w.draft.ID.String(), w.suspended.ID.String()} }},
	"catalog.Service.Versions": {kind: scoped, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.Versions(w.ctx, v, w.sold, 10, relay.EncodeCursor(99, 0, 0))
	}, private: func(w *world) []string { return []string{w.rejected.String()} }, readersSee: true},
	"catalog.Service.VersionsByIDs": {kind: absent, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.catalog.VersionsByIDs(w.ctx, v, ids(w.rejected))
	}},

	// commerce
	"commerce.CustomerSecret": {kind: hidden, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return commerce.CustomerSecret(v, w.customer.OrgID, "CM-LICENSE-KEY")
	}},
	"commerce.MayReadInvoice": {kind: predicate, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return commerce.MayReadInvoice(v, w.customer.OrgID), nil
	}},
	"commerce.MayReadLicenseKey": {kind: predicate, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return commerce.MayReadLicenseKey(v, w.customer.OrgID), nil
	}},
	"commerce.MayReadSale": {kind: predicate, readers: []string{"customer", "developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return commerce.MayReadSale(v, w.customer.OrgID, w.developer.OrgID), nil
	}},
	"commerce.Service.Installations": {kind: hidden, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.Installations(w.ctx, v, commerce.InstallationFilter{CustomerID: &w.customer.OrgID}, nil, nil)
	}},
	"commerce.Service.InstallationsByIDs": {kind: absent, readers: []string{"customer", "developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.InstallationsByIDs(w.ctx, v, ids(w.installation))
	}},
	"commerce.Service.Invoices": {kind: hidden, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.Invoices(w.ctx, v, w.customer.OrgID, nil, nil, nil)
	}},
	"commerce.Service.InvoiceQueue": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.InvoiceQueue(w.ctx, v, commerce.InvoiceQueueFilter{}, relay.PageArgs{WithTotal: true})
	}},
	"commerce.Service.InvoicesByIDs": {kind: absent, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.InvoicesByIDs(w.ctx, v, ids(w.invoice))
	}},
	"commerce.Service.PackageDownloads": {kind: absent, readers: []string{"customer", "developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.PackageDownloads(w.ctx, v, ids(w.installation))
	}},
	"commerce.Service.Payments": {kind: hidden, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.Payments(w.ctx, v, commerce.PaymentFilter{CustomerID: &w.customer.OrgID}, nil, nil)
	}},
	"commerce.Service.PaymentsByIDs": {kind: absent, readers: []string{"customer", "developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.PaymentsByIDs(w.ctx, v, ids(w.payment))
	}},
	"commerce.Service.UnappliedPayments": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.UnappliedPayments(w.ctx, v, nil, relay.PageArgs{})
	}},
	"commerce.Service.UnappliedPaymentsByIDs": {kind: absent, call: func(w *world, v identity.Viewer) (any, error) {
		return w.commerce.UnappliedPaymentsByIDs(w.ctx, v, ids(w.unapplied))
	}},

	// earnings
	"earnings.MayReadParty": {kind: predicate, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return earnings.MayReadParty(v, store.PartyDeveloper, w.developer.OrgID), nil
	}},
	"earnings.Ledger.Entries": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.ledger.Entries(w.ctx, v, devEntries(w), nil, nil)
	}},
	"earnings.ExportParty": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		party, id, err := earnings.ExportParty(v, &w.developer.OrgID, nil)
		if err != nil {
			return nil, err
		}
		return []any{party, id}, nil
	}},
	"earnings.Ledger.EachEntry": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		var rows []earnings.LedgerEntry
		err := w.ledger.EachEntry(w.ctx, v, store.PartyDeveloper, w.developer.OrgID, nil, nil, func(e earnings.LedgerEntry) error {
			rows = append(rows, e)
			return nil
		})
		return rows, err
	}},
	"earnings.Ledger.Event": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.ledger.Event(w.ctx, v, store.PartyDeveloper, w.developer.OrgID, w.devEntry, w.clk.Now())
	}},
	"earnings.Ledger.MonthStatement": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.ledger.MonthStatement(w.ctx, v, store.PartyDeveloper, w.developer.OrgID, w.soldAt)
	}},
	"earnings.Ledger.Snapshot": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.ledger.Snapshot(w.ctx, v, store.PartyDeveloper, w.developer.OrgID, w.clk.Now())
	}},
	"earnings.Ledger.Totals": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.ledger.Totals(w.ctx, v, []earnings.TotalsKey{earnings.TotalsKeyOf(devEntries(w), store.ByPaidFor)})
	}},
	"earnings.PartnerStatuses.StatusHistory": {kind: hidden, readers: []string{"partner"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.partners.StatusHistory(w.ctx, v, w.partner.OrgID)
	}},
	"earnings.Payouts.Balance": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.payouts.Balance(w.ctx, v, store.PartyDeveloper, w.developer.OrgID)
	}},
	"earnings.Payouts.Payouts": {kind: hidden, readers: []string{"partner"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.payouts.Payouts(w.ctx, v, store.PartyPartner, w.partner.OrgID, nil, nil)
	}},
	"earnings.Payouts.EachPayout": {kind: hidden, readers: []string{"partner"}, call: func(w *world, v identity.Viewer) (any, error) {
		var rows []earnings.Payout
		err := w.payouts.EachPayout(w.ctx, v, store.PartyPartner, w.partner.OrgID, func(p earnings.Payout) error {
			rows = append(rows, p)
			return nil
		})
		return rows, err
	}},
	"earnings.Payouts.PayoutQueue": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.payouts.PayoutQueue(w.ctx, v, nil, relay.PageArgs{WithTotal: true})
	}},
	"earnings.Payouts.PayoutsByIDs": {kind: absent, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.payouts.PayoutsByIDs(w.ctx, v, ids(w.devPayout))
	}},
	// The party a subscriber streams as: its own, from its token.
	"earnings.LiveParty": {kind: scoped, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return earnings.LiveParty(v, store.PartyDeveloper)
	}, private: func(w *world) []string { return []string{w.developer.OrgID.String()} }, readersSee: true},
	"earnings.Rates.Current": {kind: scoped, call: func(w *world, v identity.Viewer) (any, error) {
		return w.rates.Current(w.ctx, v)
	}},
	"earnings.Rates.History": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.rates.History(w.ctx, v)
	}},
	"earnings.Statuses.Progress": {kind: hidden, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.statuses.Progress(w.ctx, v, w.developer.OrgID)
	}},

	// pins
	"pins.MayReadPin": {kind: predicate, readers: []string{"partner", "customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return pins.MayReadPin(v, w.partner.OrgID, w.customer.OrgID), nil
	}},
	"pins.Service.CustomerPins": {kind: hidden, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.pins.CustomerPins(w.ctx, v, w.customer.OrgID)
	}},
	"pins.Service.Events": {kind: hidden, readers: []string{"partner", "customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.pins.Events(w.ctx, v, w.pin)
	}},
	"pins.Service.PartnerPins": {kind: hidden, readers: []string{"partner"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.pins.PartnerPins(w.ctx, v, w.partner.OrgID, nil, nil, nil)
	}},
	"pins.Service.PinQueue": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.pins.PinQueue(w.ctx, v, nil, relay.PageArgs{WithTotal: true})
	}},
	"pins.Service.PinsByIDs": {kind: absent, readers: []string{"partner", "customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.pins.PinsByIDs(w.ctx, v, ids(w.pin))
	}},

	// packages
	"packages.MayGetBackup": {kind: predicate, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return packages.MayGetBackup(v, w.customer.OrgID), nil
	}},
	"packages.MayRead": {kind: predicate, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return packages.MayRead(v, store.VersionPackage{VersionID: w.version, DeveloperID: w.developer.OrgID}), nil
	}},
	"packages.Service.BackupLink": {kind: hidden, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		rows, err := w.st.InstallationsByIDs(w.ctx, ids(w.installation))
		if err != nil || len(rows) != 1 {
			return nil, err
		}
		return w.packages.BackupLink(w.ctx, v, rows[0])
	}},
	"packages.Service.ForModeration": {kind: absent, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		d, err := w.packages.ForModeration(w.ctx, v, w.version)
		if d.Reader != nil {
			d.Reader.Close()
		}
		return d, err
	}},
	"packages.Service.OfVersions": {kind: absent, readers: []string{"developer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.packages.OfVersions(w.ctx, v, ids(w.version))
	}},

	// account
	"account.MayReadOrganisation": {kind: predicate, readers: []string{"partner"}, call: func(w *world, v identity.Viewer) (any, error) {
		return account.MayReadOrganisation(v, identity.RolePartner, w.partner.OrgID), nil
	}},
	"account.MayReadUser": {kind: predicate, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return account.MayReadUser(v, w.customer.UserID), nil
	}},
	"account.Service.Customers": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.Customers(w.ctx, v, account.SearchArgs{Search: &w.customer.Email, PageArgs: relay.PageArgs{WithTotal: true}})
	}},
	"account.Service.Partners": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.Partners(w.ctx, v, account.SearchArgs{Search: &w.partner.Email, PageArgs: relay.PageArgs{WithTotal: true}})
	}},
	"account.Service.Users": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.Users(w.ctx, v, account.SearchArgs{Search: &w.customer.Email, PageArgs: relay.PageArgs{WithTotal: true}})
	}},
	"account.Service.CustomersByIDs": {kind: absent, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.CustomersByIDs(w.ctx, v, ids(w.customer.OrgID))
	}},
	"account.Service.PartnersByIDs": {kind: absent, readers: []string{"partner"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.PartnersByIDs(w.ctx, v, ids(w.partner.OrgID))
	}},
	"account.Service.UsersByIDs": {kind: absent, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.UsersByIDs(w.ctx, v, ids(w.customer.UserID))
	}},
	// The viewer's own user and roles: nothing in the call names anyone
	// else, so a stranger reads itself.
	"account.Service.User": {kind: scoped, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.User(w.ctx, v)
	}, private: func(w *world) []string { return []string{w.customer.UserID.String(), w.customer.Email} }, readersSee: true},
	"account.Service.RoleGrants": {kind: scoped, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.RoleGrants(w.ctx, v)
	}, private: func(w *world) []string { return []string{w.customer.UserID.String(), w.customer.OrgID.String()} }, readersSee: true},
	// The viewer's user's API tokens: a stranger reads its own (none here).
	"account.Service.APITokens": {kind: scoped, readers: []string{"customer"}, call: func(w *world, v identity.Viewer) (any, error) {
		return w.accounts.APITokens(w.ctx, v)
	}, private: func(w *world) []string { return []string{w.customer.UserID.String(), w.customerToken.String()} }, readersSee: true},

	// settings: admins only.
	"settings.MayRead": {kind: predicate, call: func(w *world, v identity.Viewer) (any, error) {
		return settings.MayRead(v), nil
	}},
	"settings.Service.List": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.settings.List(w.ctx, v)
	}},

	// auditlog
	"auditlog.Service.Entries": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		return w.audit.Entries(w.ctx, v, auditlog.Filter{}, nil, nil)
	}},
	"auditlog.Service.Verify": {kind: hidden, call: func(w *world, v identity.Viewer) (any, error) {
		broken, err := w.audit.Verify(w.ctx, v)
		if err != nil {
			return nil, err
		}
		// "" is an intact chain: an answer all the same.
		return "verified up to " + broken, nil
	}},
}

// notReads are the viewer-taking functions that read nothing a stranger
// could be shown, and why.
var notReads = map[string]string{
	"auth.Tokens.Issue":                    "issues the viewer's own token",
	"identity.WithViewer":                  "attaches the viewer to a context",
	"catalog.OwnVersion":                   "locks a version for its developer's write (the package upload), in the write's transaction",
	"respcache.Cache.Middleware":           "caches anonymous answers only; every other viewer's request passes by",
	"store.Queries.InsertAudit":            "writes the audit row of the context's viewer",
	"web.Streams.Websocket":                "counts a subject's open subscriptions",
	"account.Service.ChangePassword":       "mutation",
	"account.Service.ChangeRole":           "mutation",
	"account.Service.CreateAPIToken":       "mutation",
	"account.Service.RevokeAPIToken":       "mutation",
	"account.Service.ErasePersonalData":    "mutation",
	"account.Service.LogOut":               "mutation",
	"account.Service.SetAllowedNetworks":   "mutation",
	"account.Service.SetCRMAccountID":      "mutation",
	"catalog.Service.ApproveVersion":       "mutation",
	"catalog.Service.ArchiveConfiguration": "mutation",
	"catalog.Service.CreateConfiguration":  "mutation",
	"catalog.Service.CreateReview":         "mutation",
	"catalog.Service.CreateVersion":        "mutation",
	"catalog.Service.InviteCustomer":       "mutation",
	"catalog.Service.RejectVersion":        "mutation",
	"catalog.Service.RestoreConfiguration": "mutation",
	"catalog.Service.SetPrices":            "mutation",
	"catalog.Service.SubmitVersion":        "mutation",
	"catalog.Service.SuspendConfiguration": "mutation",
	"catalog.Service.UpdateConfiguration":  "mutation",
	"catalog.Service.UpdateReview":         "mutation",
	"catalog.Service.UpdateVersion":        "mutation",
	"commerce.Service.ApplyUnapplied":      "mutation",
	"commerce.Service.Buy":                 "mutation",
	"commerce.Service.CancelRental":        "mutation",
	"commerce.Service.ChangePlan":          "mutation",
	"commerce.Service.ConvertTrial":        "mutation",
	"commerce.Service.RecordPayment":       "mutation",
	"commerce.Service.Refund":              "mutation",
	"commerce.Service.Rent":                "mutation",
	"commerce.Service.RestoreLicense":      "mutation",
	"commerce.Service.ReturnUnapplied":     "mutation",
	"commerce.Service.StartTrial":          "mutation",
	"earnings.PartnerStatuses.SetStatus":   "mutation",
	"earnings.Payouts.DecidePayout":        "mutation",
	"earnings.Payouts.RequestPayout":       "mutation",
	"earnings.Rates.SetDeveloperRate":      "mutation",
	"earnings.Rates.SetPartnerRate":        "mutation",
	"earnings.Statuses.RecomputeOnDemand":  "mutation",
	"earnings.Statuses.SetFlags":           "mutation",
	"packages.Service.Upload":              "mutation",
	"pins.Service.ConfirmPin":              "mutation",
	"settings.Service.Update":              "mutation",
	"pins.Service.DeclinePin":              "mutation",
	"pins.Service.PinCustomer":             "mutation",
	"pins.Service.RefusePin":               "mutation",
	"pins.Service.RenewPin":                "mutation",

	// Issue 22 item 3: the profiles.
	"account.Service.UpdateProfile":          "mutation",
	"account.Service.UpdateDeveloperProfile": "mutation",
	"account.Service.UpdatePartnerProfile":   "mutation",
	"account.Service.UpdateCustomerProfile":  "mutation",
}

// TestEveryViewerTakingFunctionIsAccounted denies by default: an exported
// function under internal/ that takes a viewer is either a read, called
// below as every stranger, or says why it reads nothing.
func TestEveryViewerTakingFunctionIsAccounted(t *testing.T) {
	found := viewerFuncs(t)
	for _, name := range found {
		_, isRead := reads[name]
		_, other := notReads[name]
		switch {
		case isRead && other:
			t.Errorf("%s is in both reads and notReads of internal/privacy/privacy_test.go", name)
		case !isRead && !other:
			t.Errorf("%s takes a viewer: add it to reads in internal/privacy/privacy_test.go (with a call, its readers and how it answers a stranger), or to notReads with why it reads nothing", name)
		}
	}
	for name := range reads {
		if !slices.Contains(found, name) {
			t.Errorf("reads names %s, which takes no viewer any more: remove it", name)
		}
	}
	for name := range notReads {
		if !slices.Contains(found, name) {
			t.Errorf("notReads names %s, which takes no viewer any more: remove it", name)
		}
	}
}

// TestStrangersReadNothing calls every read as anonymous, another customer,
// developer and partner, the owner's user in another role, and the world's
// accounts that are not its readers: each gets what its kind promises and
// none of the owner's ids. The first reader reads something.
func TestStrangersReadNothing(t *testing.T) {
	w := newWorld(t)
	// What only the world's owners may see, in any read.
	secrets := []string{
		w.draft.ID.String(), w.rejected.String(), w.suspended.ID.String(), w.review.String(),
		w.installation.String(), w.invoice.String(), w.payment.String(), w.pin.String(),
		w.devPayout.String(), w.partnerPayout.String(), w.unapplied.String(),
		w.customer.OrgID.String(), w.customer.UserID.String(), w.partner.OrgID.String(), w.partner.UserID.String(),
	}
	for name, r := range reads {
		t.Run(name, func(t *testing.T) {
			owner := w.admin.Viewer()
			if len(r.readers) > 0 {
				owner = w.viewerOf(r.readers[0])
			}
			got, err := r.call(w, owner)
			if err != nil || isEmpty(got) {
				t.Fatalf("its reader %s reads nothing: %v, %v", r.readersOr(), got, err)
			}
			if r.readersSee && !holdsAny(got, r.private(w)) {
				t.Errorf("its reader %s does not read its private part: %v", r.readersOr(), got)
			}
			strangers := map[string]identity.Viewer{}
			for n, v := range w.strangers {
				strangers[n] = v
			}
			for _, acct := range []string{"customer", "developer", "partner"} {
				if !slices.Contains(r.readers, acct) {
					strangers["the world's "+acct] = w.viewerOf(acct)
				}
			}
			for who, v := range strangers {
				got, err := r.call(w, v)
				if msg := r.answersStranger(w, v, got, err); msg != "" {
					t.Errorf("%s: %s (answer %v, %v)", who, msg, got, err)
				}
				if _, own := w.strangers[who]; own && holdsAny(got, secrets) {
					t.Errorf("%s reads one of the owners' ids: %v", who, got)
				}
			}
		})
	}
}

func (r read) readersOr() string {
	if len(r.readers) == 0 {
		return "admin"
	}
	return r.readers[0]
}

// answersStranger says what is wrong with a stranger's answer, or "".
func (r read) answersStranger(w *world, v identity.Viewer, got any, err error) string {
	switch r.kind {
	case hidden:
		if !apperr.IsHidden(err) || !isEmpty(got) {
			return "want the zero value and apperr.Hidden"
		}
	case absent:
		if !(err == nil || apperr.Is(err, apperr.KindNotFound) || apperr.IsHidden(err)) || !isEmpty(got) {
			return "want no rows (or not found), as for ids that do not exist"
		}
	case scoped:
		if err != nil && !apperr.IsHidden(err) {
			return "want the public part or apperr.Hidden, not another error"
		}
		if r.private != nil && holdsAny(got, r.private(w)) {
			return "reads the readers' private part"
		}
	case predicate:
		if err != nil || got != false {
			return "want false"
		}
	default:
		return "no kind"
	}
	return ""
}

// isEmpty reports whether x holds nothing: nil, zero, no rows, or a struct
// of such.
func isEmpty(x any) bool { return empty(reflect.ValueOf(x)) }

func empty(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil() || empty(v.Elem())
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Struct:
		for i := range v.NumField() {
			if !empty(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return v.IsZero()
}

// holdsAny reports whether x, as JSON (or printed, when it is no JSON),
// holds any of words.
func holdsAny(x any, words []string) bool {
	s := fmt.Sprintf("%+v", x)
	if b, err := json.Marshal(x); err == nil {
		s = string(b)
	}
	for _, w := range words {
		if w != "" && strings.Contains(s, w) {
			return true
		}
	}
	return false
}
