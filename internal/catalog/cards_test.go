package catalog

import (
	"testing"

	"github.com/google/uuid"

	"configmarket/internal/money"
	"configmarket/internal/store"
)

func TestRatingAverageIsRoundedToTwoDecimals(t *testing.T) {
	for _, c := range []struct {
		count, sum int
		want       float64
		ok         bool
	}{{0, 0, 0, false}, {1, 4, 4, true}, {2, 5, 2.5, true}, {3, 10, 3.33, true}, {3, 11, 3.67, true}, {6, 29, 4.83, true}} {
		got, ok := RatingAverage(store.Configuration{RatingCount: c.count, RatingSum: c.sum})
		if got != c.want || ok != c.ok {
			t.Errorf("%d ratings summing %d: %v, %v; want %v, %v", c.count, c.sum, got, ok, c.want, c.ok)
		}
	}
}

// Rent prices come in the plans' order (smallest first), one per plan,
// and only while the configuration sells rent; the sale price only while
// it sells outright.
func TestCardPricesFollowPlansAndSaleModes(t *testing.T) {
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	// SPEC §3's plans: A up to 3 users, B up to 10, C up to 30.
	plans := []store.TariffPlan{{ID: a, Code: "A", MaxUsers: 3}, {ID: b, Code: "B", MaxUsers: 10}, {ID: c, Code: "C", MaxUsers: 30}}
	rub := func(minor int64) money.Money { return money.Money{Minor: minor, Currency: "RUB"} }
	prices := []store.Price{ // in plan-id order, as the store reads them
		{Kind: "rent", TariffPlanID: &c, Amount: rub(40000)},
		{Kind: "sale", Amount: rub(900000)},
		{Kind: "rent", TariffPlanID: &a, Amount: rub(12000)},
	}
	both := store.Configuration{SellsRent: true, SellsPurchase: true}
	rent := AppendRentPrices(nil, both, prices, plans)
	if len(rent) != 2 || rent[0].Plan.Code != "A" || rent[0].Amount != rub(12000) || rent[1].Plan.Code != "C" || rent[1].Amount != rub(40000) {
		t.Errorf("rent prices %+v, want A 120.00 then C 400.00", rent)
	}
	if m, ok := RentPrice(both, prices, b); ok {
		t.Errorf("plan B has no price, got %v", m)
	}
	if m, ok := SalePrice(both, prices); !ok || m != rub(900000) {
		t.Errorf("sale price %v, %v", m, ok)
	}
	saleOnly := store.Configuration{SellsPurchase: true}
	if got := AppendRentPrices(nil, saleOnly, prices, plans); len(got) != 0 {
		t.Errorf("a configuration that does not sell rent showed rent %+v", got)
	}
	if _, ok := RentPrice(saleOnly, prices, a); ok {
		t.Error("a configuration that does not sell rent has a rent price")
	}
	if _, ok := SalePrice(store.Configuration{SellsRent: true}, prices); ok {
		t.Error("a configuration that does not sell outright has a sale price")
	}
}
