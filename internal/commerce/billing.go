package commerce

import (
	"context"
	"log/slog"

	"configmarket/internal/store"
)

// BillingReport counts what one billing run changed.
type BillingReport struct {
	Skipped         bool
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
// expire trials, start converted rentals, end canceled rentals, advance
// paid periods, invoice started periods, then dun unpaid invoices.
func (s *Service) RunBilling(ctx context.Context) (BillingReport, error) {
	now := s.clock.Now()
	var r BillingReport
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		r = BillingReport{}
		locked, err := q.TryBillingLock(ctx)
		if err != nil || !locked {
			r.Skipped = !locked
			return err
		}
		steps := []struct {
			n   *int64
			run func() (int64, error)
		}{
			{&r.TrialsExpired, func() (int64, error) { return q.ExpireTrials(ctx, now, s.rules.TrialRetention) }},
			{&r.RentalsStarted, func() (int64, error) { return q.StartConvertedRentals(ctx, now) }},
			{&r.RentalsEnded, func() (int64, error) { return q.EndCanceledRentals(ctx, now) }},
			{&r.PeriodsAdvanced, func() (int64, error) { return q.AdvancePaidPeriods(ctx, now) }},
			{&r.InvoicesIssued, func() (int64, error) { return q.IssueDueInvoices(ctx, now) }},
			{&r.CanceledUnpaid, func() (int64, error) { return q.CancelUnpaid(ctx, now, s.rules.CancelAfter) }},
			{&r.MarkedPastDue, func() (int64, error) { return q.MarkPastDue(ctx, now, s.rules.PastDueAfter) }},
		}
		for _, step := range steps {
			n, err := step.run()
			if err != nil {
				return err
			}
			*step.n = n
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
