package commerce_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/commerce"
	"configmarket/internal/factory"
	"configmarket/internal/store"
)

// SPEC §4: renters (and trials) are updated automatically to every newly
// approved version and each update is recorded; buyers never are.
func TestApprovalMovesRentersAndTrialsNotBuyers(t *testing.T) {
	e := newEnv(t)
	c := e.config(factory.ConfigurationOptions{SaleMinor: 3500000})
	v1 := e.versionOf(c.ID)
	trialer, renter, buyer, lapsed := e.customer(), e.customer(), e.customer(), e.customer()

	trial, err := e.svc.StartTrial(e.ctx, trialer.Viewer(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	rent := *e.rentPaid(renter, c.ID).InstallationID
	buyCh, err := e.svc.Buy(e.ctx, buyer.Viewer(), c.ID, "buy")
	if err != nil {
		t.Fatal(err)
	}
	buy := *buyCh.InstallationID
	// A trial that expired is not live and is not moved.
	expired, err := e.svc.StartTrial(e.ctx, lapsed.Viewer(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(e.ctx, `update installations set state = 'expired' where id = $1`, expired.ID); err != nil {
		t.Fatal(err)
	}

	e.at(3 * day)
	v2 := e.newVersion(c.ID, store.VersionKey{Major: 2})
	if n := e.count(`select count(*) from update_jobs where version_id = $1 and finished_at is null`, v2.ID); n != 1 {
		t.Fatalf("%d pending update jobs for 2.0.0, want 1", n)
	}
	// Nothing moves before the worker runs.
	if got := e.inst(rent); got.VersionID != v1.ID {
		t.Fatalf("moved before ProcessUpdates")
	}

	moved, err := e.svc.ProcessUpdates(e.ctx)
	if err != nil || moved != 2 {
		t.Fatalf("ProcessUpdates moved %d (%v), want 2", moved, err)
	}
	now := e.clk.Now()
	cases := []struct {
		name    string
		id      uuid.UUID
		version uuid.UUID
		updates int
	}{
		{"trial", trial.ID, v2.ID, 1},
		{"rental", rent, v2.ID, 1},
		{"purchase", buy, v1.ID, 0},
		{"expired trial", expired.ID, v1.ID, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.inst(tc.id); got.VersionID != tc.version {
				t.Errorf("on version %s, want %s", got.VersionID, tc.version)
			}
			ups, err := e.svc.Updates(e.ctx, []uuid.UUID{tc.id})
			if err != nil {
				t.Fatal(err)
			}
			if len(ups) != tc.updates {
				t.Fatalf("%d updates recorded, want %d", len(ups), tc.updates)
			}
			for _, u := range ups {
				if u.FromVersionID != v1.ID || u.ToVersionID != v2.ID || !u.At.Equal(now) {
					t.Errorf("update = %+v, want 1.0.0 → 2.0.0 at %s", u, now)
				}
			}
		})
	}
	if n := e.count(`select count(*) from update_jobs where finished_at is null`); n != 0 {
		t.Errorf("%d jobs left pending", n)
	}
	if n := e.count(`select moved from update_jobs where version_id = $1`, v2.ID); n != 2 {
		t.Errorf("job counted %d moves, want 2", n)
	}
	// Running again does nothing.
	if moved, err := e.svc.ProcessUpdates(e.ctx); err != nil || moved != 0 {
		t.Errorf("second run moved %d (%v)", moved, err)
	}

	// A later version moves them again, from 2.0.0; a new rental starts on
	// the newest version.
	e.at(5 * day) // history is ordered by time
	v3 := e.newVersion(c.ID, store.VersionKey{Major: 2, Minor: 1})
	late := *e.rentPaid(e.customer(), c.ID).InstallationID
	if got := e.inst(late); got.VersionID != v3.ID {
		t.Errorf("new rental on %s, want 2.1.0", got.VersionID)
	}
	if moved, err := e.svc.ProcessUpdates(e.ctx); err != nil || moved != 2 {
		t.Errorf("2.1.0 moved %d (%v), want 2", moved, err)
	}
	ups, _ := e.svc.Updates(e.ctx, []uuid.UUID{rent})
	if len(ups) != 2 || ups[1].FromVersionID != v2.ID || ups[1].ToVersionID != v3.ID {
		t.Errorf("rental history = %+v", ups)
	}
	if got := e.inst(buy); got.VersionID != v1.ID {
		t.Errorf("purchase moved to %s", got.VersionID)
	}
}

// Batches of Rules.UpdateBatch, resumable after a crash without double
// records, and safe with several workers.
func TestProcessUpdatesBatchesAndResumes(t *testing.T) {
	rules := commerce.DefaultRules
	rules.UpdateBatch = 7
	const renters = 30

	setup := func(t *testing.T) (*env, []uuid.UUID, store.Version, store.Version) {
		e := newEnvWith(t, rules, zeroTime)
		c := e.config(factory.ConfigurationOptions{})
		v1 := e.versionOf(c.ID)
		ids := make([]uuid.UUID, renters)
		for i := range ids {
			ids[i] = *e.rentPaid(e.customer(), c.ID).InstallationID
		}
		v2 := e.newVersion(c.ID, store.VersionKey{Major: 2})
		return e, ids, v1, v2
	}
	check := func(t *testing.T, e *env, ids []uuid.UUID, v1, v2 store.Version, wantJobMoved int) {
		t.Helper()
		for _, id := range ids {
			if got := e.inst(id); got.VersionID != v2.ID {
				t.Errorf("installation %s on %s, want 2.0.0", id, got.VersionID)
			}
		}
		if n := e.count(`select count(*) from installation_updates where to_version_id = $1`, v2.ID); n != renters {
			t.Errorf("%d update records, want %d", n, renters)
		}
		if n := e.count(`select count(*) from (select installation_id from installation_updates group by 1 having count(*) > 1) d`); n != 0 {
			t.Errorf("%d installations recorded twice", n)
		}
		if n := e.count(`select count(*) from installation_updates where from_version_id <> $1`, v1.ID); n != 0 {
			t.Errorf("%d records not from 1.0.0", n)
		}
		if n := e.count(`select count(*) from update_jobs where version_id = $1 and finished_at is not null`, v2.ID); n != 1 {
			t.Errorf("job not finished")
		}
		if wantJobMoved >= 0 {
			if n := e.count(`select moved from update_jobs where version_id = $1`, v2.ID); n != wantJobMoved {
				t.Errorf("job counted %d moves, want %d", n, wantJobMoved)
			}
		}
	}

	t.Run("all in batches", func(t *testing.T) {
		e, ids, v1, v2 := setup(t)
		moved, err := e.svc.ProcessUpdates(e.ctx)
		if err != nil || moved != renters {
			t.Fatalf("moved %d (%v), want %d", moved, err, renters)
		}
		check(t, e, ids, v1, v2, renters)
	})

	t.Run("resume after a committed batch", func(t *testing.T) {
		e, ids, v1, v2 := setup(t)
		// A worker commits one batch and dies before finishing the job.
		if err := e.st.InTx(e.ctx, func(q *store.Queries) error {
			job, ok, err := q.ClaimUpdateJob(e.ctx)
			if err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			n, err := q.MoveInstallations(e.ctx, job, rules.UpdateBatch, e.clk.Now())
			if n != 7 {
				t.Errorf("first batch moved %d, want 7", n)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		moved, err := e.svc.ProcessUpdates(e.ctx)
		if err != nil || moved != renters-7 {
			t.Fatalf("resume moved %d (%v), want %d", moved, err, renters-7)
		}
		check(t, e, ids, v1, v2, -1)
	})

	t.Run("crash inside a batch rolls it back", func(t *testing.T) {
		e, ids, v1, v2 := setup(t)
		crash := errors.New("crash")
		err := e.st.InTx(e.ctx, func(q *store.Queries) error {
			job, _, err := q.ClaimUpdateJob(e.ctx)
			if err != nil {
				return err
			}
			if _, err := q.MoveInstallations(e.ctx, job, rules.UpdateBatch, e.clk.Now()); err != nil {
				return err
			}
			return crash
		})
		if !errors.Is(err, crash) {
			t.Fatal(err)
		}
		if n := e.count(`select count(*) from installation_updates`); n != 0 {
			t.Fatalf("%d records after a rolled-back batch", n)
		}
		moved, err := e.svc.ProcessUpdates(e.ctx)
		if err != nil || moved != renters {
			t.Fatalf("moved %d (%v)", moved, err)
		}
		check(t, e, ids, v1, v2, renters)
	})

	t.Run("several workers", func(t *testing.T) {
		e, ids, v1, v2 := setup(t)
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := e.svc.ProcessUpdates(ctx)
				if err != nil {
					t.Errorf("worker: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		// A worker that found the job held by another stops; run once more
		// as the next scheduled tick would.
		n, err := e.svc.ProcessUpdates(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		if total != renters {
			t.Errorf("workers moved %d, want %d", total, renters)
		}
		check(t, e, ids, v1, v2, -1)
	})
}
