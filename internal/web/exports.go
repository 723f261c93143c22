package web

import (
	"context"
	"encoding/csv"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/earnings"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
)

// Exports serves a developer's or partner's money as CSV (RFC 4180: CRLF
// line ends, a header row, amounts as decimal strings in the currency's
// units), streamed as the rows are read:
//
//	GET /exports/statements/{YYYY-MM}.csv   the month's ledger entries: they sum to Statement.share
//	GET /exports/ledger.csv?from=&to=       the ledger entries in [from, to) (dates or RFC 3339 times)
//	GET /exports/payouts.csv                every payout
//
// The bearer token says whose: a developer's or partner's session exports
// its own; an admin names the party with ?developer= or ?partner= (a
// global id). Anyone else gets 404, as for a package it may not read.
func Exports(ledger *earnings.Ledger, payouts *earnings.Payouts, auth Authenticator) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /exports/statements/{file}", exportRoute(auth, func(w *csvExport, r *http.Request, v identity.Viewer, party earnings.Party, id uuid.UUID) error {
		month, err := time.Parse("2006-01", strings.TrimSuffix(r.PathValue("file"), ".csv"))
		if err != nil || !strings.HasSuffix(r.PathValue("file"), ".csv") {
			return apperr.Invalid("month", "name the month as YYYY-MM.csv")
		}
		st, err := ledger.MonthStatement(r.Context(), v, party, id, month)
		if err != nil {
			return err
		}
		w.filename = "statement-" + month.Format("2006-01") + ".csv"
		for _, e := range st.Entries {
			if err := w.entry(e); err != nil {
				return err
			}
		}
		return nil
	}))
	mux.Handle("GET /exports/ledger.csv", exportRoute(auth, func(w *csvExport, r *http.Request, v identity.Viewer, party earnings.Party, id uuid.UUID) error {
		from, err := timeParam(r, "from")
		if err != nil {
			return err
		}
		to, err := timeParam(r, "to")
		if err != nil {
			return err
		}
		w.filename = "ledger.csv"
		return ledger.EachEntry(r.Context(), v, party, id, from, to, w.entry)
	}))
	mux.Handle("GET /exports/payouts.csv", exportRoute(auth, func(w *csvExport, r *http.Request, v identity.Viewer, party earnings.Party, id uuid.UUID) error {
		w.filename = "payouts.csv"
		w.header = payoutColumns
		return payouts.EachPayout(r.Context(), v, party, id, w.payout)
	}))
	return mux
}

var (
	entryColumns = []string{"occurred_at", "payment_id", "reversal", "paid_for", "configuration_id", "customer_id",
		"rate_percent", "amount", "currency"}
	payoutColumns = []string{"payout_id", "requested_at", "method", "state", "amount", "currency", "decided_at", "failure_reason"}
)

// exportRoute authenticates the caller, finds the party it exports and
// runs write. A refusal or bad input found before the first row answers
// with its status and code; an error after rows went out aborts the
// response, so a client never takes a cut-off file for a whole one.
func exportRoute(auth Authenticator, write func(w *csvExport, r *http.Request, v identity.Viewer, party earnings.Party, id uuid.UUID) error) http.Handler {
	return Authenticate(auth, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := AuthError(r.Context()); err != nil {
			writeJSONError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "the access token is not valid")
			return
		}
		v := identity.FromContext(r.Context())
		party, id, err := exportParty(r, v)
		if err == nil {
			out := &csvExport{w: w, header: entryColumns}
			if err = write(out, r, v, party, id); err == nil {
				err = out.finish()
			}
			if err != nil && out.started {
				if !errors.Is(err, context.Canceled) {
					slog.ErrorContext(r.Context(), "export failed after its first rows", "path", r.URL.Path, "err", err)
				}
				panic(http.ErrAbortHandler)
			}
		}
		if err != nil {
			writeDomainError(w, r, err)
		}
	}))
}

// exportParty reads the optional ?developer= / ?partner= of an admin's
// export.
func exportParty(r *http.Request, v identity.Viewer) (earnings.Party, uuid.UUID, error) {
	var developer, partner *uuid.UUID
	for _, p := range []struct {
		name, typ string
		into      **uuid.UUID
	}{{"developer", relay.TypeDeveloper, &developer}, {"partner", relay.TypePartner, &partner}} {
		raw := r.URL.Query().Get(p.name)
		if raw == "" {
			continue
		}
		id, err := relay.ParseUUIDOf(raw, p.typ)
		if err != nil {
			return "", uuid.Nil, apperr.Invalid(p.name, "not a %s id", p.name)
		}
		*p.into = &id
	}
	return earnings.ExportParty(v, developer, partner)
}

// timeParam reads an optional bound: a date (midnight UTC) or an RFC 3339
// time.
func timeParam(r *http.Request, name string) (*time.Time, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, raw); err == nil {
			return &t, nil
		}
	}
	return nil, apperr.Invalid(name, "%s must be a date (YYYY-MM-DD) or an RFC 3339 time", name)
}

// csvExport writes an export's rows, sending the response's headers and
// the header row with the first of them (or at finish, for none), so that
// an error found before any row can still answer with its own status.
type csvExport struct {
	w        http.ResponseWriter
	csv      *csv.Writer
	header   []string
	filename string
	started  bool
	rows     int
}

func (e *csvExport) row(fields []string) error {
	if !e.started {
		e.started = true
		extendDeadlines(e.w)
		h := e.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
		h.Set("Content-Disposition", `attachment; filename="`+e.filename+`"`)
		h.Set("Cache-Control", "private, no-store")
		e.csv = csv.NewWriter(e.w)
		e.csv.UseCRLF = true
		if err := e.csv.Write(e.header); err != nil {
			return err
		}
	}
	if fields == nil {
		return nil
	}
	if err := e.csv.Write(fields); err != nil {
		return err
	}
	// Flush now and then: the client sees rows as they are read, and the
	// server holds no more than a batch.
	if e.rows++; e.rows%500 == 0 {
		e.csv.Flush()
		return e.csv.Error()
	}
	return nil
}

func (e *csvExport) finish() error {
	if err := e.row(nil); err != nil {
		return err
	}
	e.csv.Flush()
	return e.csv.Error()
}

func (e *csvExport) entry(x earnings.LedgerEntry) error {
	rate := ""
	if x.Rate != nil {
		rate = strings.TrimSuffix(money.Rate(*x.Rate).String(), "%")
	}
	return e.row([]string{
		x.OccurredAt.UTC().Format(time.RFC3339), relay.UUIDID(relay.TypePayment, x.PaymentID), strconv.FormatBool(x.RefundID != nil),
		string(x.PaidFor), optionalID(relay.TypeConfiguration, x.ConfigurationID), relay.UUIDID(relay.TypeCustomer, x.CustomerID),
		rate, x.Amount.Amount(), x.Amount.Currency,
	})
}

func (e *csvExport) payout(p earnings.Payout) error {
	decided, reason := "", ""
	if p.DecidedAt != nil {
		decided = p.DecidedAt.UTC().Format(time.RFC3339)
	}
	if p.FailureReason != nil {
		reason = *p.FailureReason
	}
	return e.row([]string{
		relay.UUIDID(relay.TypePayout, p.ID), p.RequestedAt.UTC().Format(time.RFC3339), string(p.Method), string(p.State),
		p.Amount.Amount(), p.Amount.Currency, decided, reason,
	})
}

func optionalID(typ string, id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return relay.UUIDID(typ, *id)
}
