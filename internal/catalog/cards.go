package catalog

import (
	"math"

	"github.com/google/uuid"

	"configmarket/internal/money"
	"configmarket/internal/store"
)

// What a configuration's card shows, from its row and its prices in force:
// the Configuration resolvers and the storefront listing's fast path both
// answer from these.

// RatingAverage is c's average rating to two decimals; ok is false while
// nobody has rated it.
func RatingAverage(c store.Configuration) (average float64, ok bool) {
	if c.RatingCount == 0 {
		return 0, false
	}
	return math.Round(float64(c.RatingSum)/float64(c.RatingCount)*100) / 100, true
}

// RentOnPlan is a configuration's monthly rent on one tariff plan.
type RentOnPlan struct {
	Plan   *store.TariffPlan
	Amount money.Money
}

// AppendRentPrices appends to dst c's rent prices among its prices in
// force, in the order of plans (the cached plans: smallest first). A
// configuration that does not sell rent has none, whatever its history.
func AppendRentPrices(dst []RentOnPlan, c store.Configuration, prices []store.Price, plans []store.TariffPlan) []RentOnPlan {
	if !c.SellsRent {
		return dst
	}
	for i := range plans {
		if m, ok := RentPrice(c, prices, plans[i].ID); ok {
			dst = append(dst, RentOnPlan{Plan: &plans[i], Amount: m})
		}
	}
	return dst
}

// RentPrice is c's monthly rent on plan, when it sells rent and prices it.
func RentPrice(c store.Configuration, prices []store.Price, plan uuid.UUID) (money.Money, bool) {
	if !c.SellsRent {
		return money.Money{}, false
	}
	for _, p := range prices {
		if p.Kind == store.PriceRent && p.TariffPlanID != nil && *p.TariffPlanID == plan {
			return p.Amount, true
		}
	}
	return money.Money{}, false
}

// SalePrice is c's one-off price, when it sells outright.
func SalePrice(c store.Configuration, prices []store.Price) (money.Money, bool) {
	if !c.SellsPurchase {
		return money.Money{}, false
	}
	for _, p := range prices {
		if p.Kind == store.PriceSale {
			return p.Amount, true
		}
	}
	return money.Money{}, false
}

// IsFree reports whether getting c costs nothing (SPEC §4): it is priced,
// and every price in force for what it sells — the rent on each plan, the
// sale price — is 0.00.
func IsFree(c store.Configuration, prices []store.Price) bool {
	priced := false
	for _, p := range prices {
		if (p.Kind == store.PriceRent && !c.SellsRent) || (p.Kind == store.PriceSale && !c.SellsPurchase) {
			continue
		}
		if !p.Amount.IsZero() {
			return false
		}
		priced = true
	}
	return priced
}
