package earnings

import (
	"testing"

	"configmarket/internal/money"
)

func rub(minor int64) money.Money { return money.New(minor, money.RUB) }

func pct(p int64) *money.Rate { r := money.Percent(p); return &r }

// SPEC §5's example: a premium developer who supports its customers rents
// for 500.00 to a customer pinned by a dealer.
func TestSpecExample(t *testing.T) {
	s, err := Split(rub(50000), money.Percent(75), pct(25))
	if err != nil {
		t.Fatal(err)
	}
	if s.Developer != rub(37500) || s.Partner != rub(3125) || s.Platform != rub(9375) {
		t.Fatalf("got %v / %v / %v, want 375.00 / 31.25 / 93.75", s.Developer, s.Partner, s.Platform)
	}
}

// Every cell of both rate tables of SPEC §5 on a 500.00 payment.
func TestEveryRateCell(t *testing.T) {
	devCells := map[string]int64{
		"basic/developer": 35, "basic/platform": 25, "standard/developer": 50,
		"standard/platform": 25, "premium/developer": 75, "premium/platform": 25,
	}
	partnerCells := map[string]int64{
		"agent/rent": 10, "dealer/rent": 25, "integrator/rent": 50,
		"agent/purchase": 10, "dealer/purchase": 20, "integrator/purchase": 30,
		"agent/plan": 10, "dealer/plan": 25, "integrator/plan": 50,
		"agent/services": 10, "dealer/services": 10, "integrator/services": 10,
	}
	for dcell, d := range devCells {
		for pcell, p := range partnerCells {
			s, err := Split(rub(50000), money.Percent(d), pct(p))
			if err != nil {
				t.Fatal(err)
			}
			wantDev := 50000 * d / 100
			wantPartner := (50000 - wantDev) * p / 100 // exact here: no rounding needed
			if s.Developer.Minor != wantDev || s.Partner.Minor != wantPartner || s.Platform.Minor != 50000-wantDev-wantPartner {
				t.Errorf("%s × %s: %v / %v / %v", dcell, pcell, s.Developer, s.Partner, s.Platform)
			}
		}
	}
	// No pin: no partner share at all.
	s, _ := Split(rub(50000), money.Percent(35), nil)
	if s.Partner.Minor != 0 || s.Platform != rub(32500) {
		t.Fatalf("no pin: %+v", s)
	}
}

func TestHalfUpRounding(t *testing.T) {
	// 0.03 × 35% = 0.0105 → 0.01; platform 0.02 × 10% = 0.002 → 0.00.
	s, _ := Split(rub(3), money.Percent(35), pct(10))
	if s.Developer != rub(1) || s.Partner != rub(0) || s.Platform != rub(2) {
		t.Fatalf("%+v", s)
	}
	// 0.01 × 50% = 0.005 → 0.01 (half up).
	s, _ = Split(rub(1), money.Percent(50), nil)
	if s.Developer != rub(1) || s.Platform != rub(0) {
		t.Fatalf("%+v", s)
	}
}

func TestRefundsReverseExactly(t *testing.T) {
	paid := rub(50000)
	orig, _ := Split(paid, money.Percent(75), pct(25))
	// One full refund.
	full := Reverse(paid, paid, rub(0), orig, orig)
	if full != orig {
		t.Fatalf("full refund %+v, want %+v", full, orig)
	}
	// Three partial refunds that add up to the payment.
	left, before := orig, rub(0)
	var back Shares
	back.Developer, back.Partner, back.Platform = rub(0), rub(0), rub(0)
	for _, r := range []int64{10001, 20003, 19996} {
		part := Reverse(paid, rub(r), before, orig, left)
		if part.Developer.Minor+part.Partner.Minor+part.Platform.Minor != r {
			t.Fatalf("refund %d reverses %+v", r, part)
		}
		left.Developer, _ = left.Developer.Sub(part.Developer)
		left.Partner, _ = left.Partner.Sub(part.Partner)
		left.Platform, _ = left.Platform.Sub(part.Platform)
		before = rub(before.Minor + r)
	}
	if left.Developer.Minor != 0 || left.Partner.Minor != 0 || left.Platform.Minor != 0 {
		t.Fatalf("after refunding everything, left %+v", left)
	}
}

// FuzzSplit: any amount and rates split exactly with no negative share,
// and refunding in two parts reverses everything.
func FuzzSplit(f *testing.F) {
	f.Add(int64(50000), int64(7500), int64(2500), true, int64(1))
	f.Add(int64(1), int64(5000), int64(5000), true, int64(1))
	f.Add(int64(3500000), int64(3500), int64(1000), false, int64(1234567))
	f.Fuzz(func(t *testing.T, amount, devRate, partnerRate int64, pinned bool, firstRefund int64) {
		if amount <= 0 || amount > 1e13 {
			return
		}
		devRate, partnerRate = (devRate%10001+10001)%10001, (partnerRate%10001+10001)%10001
		var pr *money.Rate
		if pinned {
			r := money.Rate(partnerRate)
			pr = &r
		}
		paid := rub(amount)
		s, err := Split(paid, money.Rate(devRate), pr)
		if err != nil {
			t.Fatal(err)
		}
		if s.Developer.Minor < 0 || s.Partner.Minor < 0 || s.Platform.Minor < 0 {
			t.Fatalf("negative share: %+v", s)
		}
		if s.Developer.Minor+s.Partner.Minor+s.Platform.Minor != amount {
			t.Fatalf("shares %+v do not sum to %d", s, amount)
		}
		first := (firstRefund%amount+amount)%amount + 1
		p1 := Reverse(paid, rub(first), rub(0), s, s)
		left := Shares{
			Developer: rub(s.Developer.Minor - p1.Developer.Minor), Partner: rub(s.Partner.Minor - p1.Partner.Minor),
			Platform: rub(s.Platform.Minor - p1.Platform.Minor),
		}
		if p1.Developer.Minor < 0 || p1.Partner.Minor < 0 || left.Developer.Minor < 0 || left.Partner.Minor < 0 {
			t.Fatalf("refund %d over-reverses: %+v of %+v", first, p1, s)
		}
		if first < amount {
			p2 := Reverse(paid, rub(amount-first), rub(first), s, left)
			if p2 != left {
				t.Fatalf("the completing refund reverses %+v, left was %+v", p2, left)
			}
		}
	})
}
