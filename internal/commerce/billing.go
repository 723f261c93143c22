package commerce

import (
	"context"
	"log/slog"

	"github.com/google/uuid"

	"configmarket/internal/relay"
	"configmarket/internal/store"
)

// BillingReport counts what one billing run changed.
type BillingReport struct {
	Skipped bool
	// UnpaidExpired counts rentals and purchases whose first invoice went
	// unpaid through its payment window.
	UnpaidExpired   int64
	TrialsExpired   int64
	RentalsStarted  int64
	RentalsEnded    int64
	PeriodsAdvanced int64
	InvoicesIssued  int64
	MarkedPastDue   int64
	CanceledUnpaid  int64
}

// RunBilling does everything due at the clock's now, in one transaction
// under an advisory lock so several instances never bill at once (and the
// invoices_one_per_period constraint makes a repeat harmless anyway):
// expire unpaid acquisitions and trials, start converted rentals, end
// canceled rentals, advance paid periods, invoice started periods, then dun
// unpaid invoices. Each installation a step changes gets an audit row, the
// system being the actor.
func (s *Service) RunBilling(ctx context.Context) (BillingReport, error) {
	rules, err := s.rulesNow(ctx)
	if err != nil {
		return BillingReport{}, err
	}
	now := s.clock.Now()
	var r BillingReport
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		r = BillingReport{}
		locked, err := q.TryBillingLock(ctx)
		if err != nil || !locked {
			r.Skipped = !locked
			return err
		}
		type step func() ([]uuid.UUID, error)
		steps := []struct {
			action string
			n      *int64
			run    step
		}{
			{"billing.expireUnpaid", &r.UnpaidExpired, func() ([]uuid.UUID, error) { return q.ExpireUnpaidAcquisitions(ctx, now) }},
			{"billing.expireTrial", &r.TrialsExpired, func() ([]uuid.UUID, error) { return q.ExpireTrials(ctx, now, rules.TrialRetention) }},
			{"billing.startRental", &r.RentalsStarted, func() ([]uuid.UUID, error) { return q.StartConvertedRentals(ctx, now) }},
			{"billing.endRental", &r.RentalsEnded, func() ([]uuid.UUID, error) { return q.EndCanceledRentals(ctx, now) }},
			{"billing.advancePeriod", &r.PeriodsAdvanced, func() ([]uuid.UUID, error) { return q.AdvancePaidPeriods(ctx, now) }},
			{"billing.issueInvoice", &r.InvoicesIssued, func() ([]uuid.UUID, error) { return q.IssueDueInvoices(ctx, now) }},
			{"billing.cancelUnpaid", &r.CanceledUnpaid, func() ([]uuid.UUID, error) { return q.CancelUnpaid(ctx, now, rules.CancelAfter) }},
			{"billing.markPastDue", &r.MarkedPastDue, func() ([]uuid.UUID, error) { return q.MarkPastDue(ctx, now, rules.PastDueAfter) }},
		}
		for _, st := range steps {
			ids, err := st.run()
			if err != nil {
				return err
			}
			*st.n = int64(len(ids))
			if err := auditInstallations(ctx, q, st.action, ids); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && r != (BillingReport{}) && !r.Skipped {
		slog.InfoContext(ctx, "billing run", "at", now, "report", r)
		s.public.Bump(ctx)
	}
	return r, err
}

// ProcessUpdates moves auto-updating installations to newly approved
// versions, one short transaction per batch, until no job is pending. A
// crash mid-way leaves the job pending: the next run resumes it, and
// installations already moved are skipped.
func (s *Service) ProcessUpdates(ctx context.Context) (moved int, err error) {
	for {
		var batch int
		var found bool
		err = s.store.InTx(ctx, func(q *store.Queries) error {
			job, ok, err := q.ClaimUpdateJob(ctx)
			if err != nil || !ok {
				found = false
				return err
			}
			found = true
			now := s.clock.Now()
			if batch, err = q.MoveInstallations(ctx, job, s.rules.UpdateBatch, now); err != nil {
				return err
			}
			// Rows another transaction held were skipped: the job is done
			// only when nothing is left behind.
			left, err := q.UpdatesLeft(ctx, job)
			if err != nil {
				return err
			}
			if left == 0 {
				return q.FinishUpdateJob(ctx, job.VersionID, batch, now)
			}
			if batch == 0 {
				// Everything left is locked by others right now; try later.
				found = false
			}
			return q.CountUpdateJobMoves(ctx, job.VersionID, batch)
		})
		if err != nil || !found {
			return moved, err
		}
		moved += batch
		if err := ctx.Err(); err != nil {
			return moved, err
		}
	}
}

// auditInstallations writes the audit row of a job's action on each
// installation it changed, in the job's transaction.
func auditInstallations(ctx context.Context, q *store.Queries, action string, ids []uuid.UUID) error {
	targets := make([]string, len(ids))
	for i, id := range ids {
		targets[i] = relay.UUIDID(relay.TypeInstallation, id)
	}
	return q.InsertSystemAudits(ctx, action, targets)
}
