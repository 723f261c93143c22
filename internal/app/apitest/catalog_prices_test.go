package apitest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const catmPriceHistoryFields = `priceHistory { saleMode tariffPlan { code } price { amount currencyCode } validFrom }`

func TestCatalogConfigurationPrices(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "priced", "Priced") // B 400.00, sale 30000.00
	const readPrices = `rentPrice(plan: "B") { amount currencyCode } salePrice { amount currencyCode }
		rentPrices { tariffPlan { code } price { amount } }`
	// The storefront has the old prices cached.
	if r := w.read(t, "anonymous", "priced", readPrices); str(r.Data, "configuration", "rentPrice", "amount") != "400.00" {
		t.Fatalf("initial prices: %s", r.Raw)
	}
	setPrices := func(t *testing.T, actor string, input map[string]any) (Response, map[string]any, []catmUserError) {
		t.Helper()
		input["id"] = id
		return w.mutate(t, actor, catmSetPrices, "setConfigurationPrices", input)
	}

	res, p, ues := setPrices(t, "developer", map[string]any{"rent": []map[string]any{{"plan": "B", "amount": "500.00"}}, "sale": "35000.00"})
	catmOK(t, res, ues)
	if !strings.Contains(res.Raw, `"rentPrice":{"amount":"500.00","currencyCode":"RUB"},"salePrice":{"amount":"35000.00","currencyCode":"RUB"}`) {
		t.Fatalf("payload prices: %s", res.Raw)
	}
	_ = p
	for _, actor := range []string{"anonymous", "customer", "developer"} {
		r := w.read(t, actor, "priced", readPrices)
		if !strings.Contains(r.Raw, `"rentPrice":{"amount":"500.00","currencyCode":"RUB"},"salePrice":{"amount":"35000.00","currencyCode":"RUB"}`) {
			t.Errorf("%s does not see the new prices on the very next read: %s", actor, r.Raw)
		}
		var plans []string
		for _, pp := range get(r.Data, "configuration", "rentPrices").([]any) {
			plans = append(plans, str(pp, "tariffPlan", "code")+"="+str(pp, "price", "amount"))
		}
		if want := []string{"A=300.00", "B=500.00", "C=900.00", "D=2000.00"}; !slices.Equal(plans, want) {
			t.Errorf("%s: rentPrices %v, want %v", actor, plans, want)
		}
	}

	res, _, ues = setPrices(t, "developer", map[string]any{"rent": []map[string]any{{"plan": "B", "amount": "550.00"}}})
	catmOK(t, res, ues)

	history := func(t *testing.T) []any {
		t.Helper()
		h, _ := get(w.read(t, "developer", "priced", catmPriceHistoryFields).Data, "configuration", "priceHistory").([]any)
		return h
	}
	t.Run("history keeps every price, newest first", func(t *testing.T) {
		h := history(t)
		var planB, sale []string
		var prev time.Time
		for i, e := range h {
			at, err := time.Parse(time.RFC3339Nano, str(e, "validFrom"))
			if err != nil {
				t.Fatalf("validFrom %q: %v", str(e, "validFrom"), err)
			}
			if i > 0 && at.After(prev) {
				t.Fatalf("history not newest first at %d: %v", i, h)
			}
			prev = at
			if str(e, "price", "currencyCode") != "RUB" {
				t.Fatalf("currency: %v", e)
			}
			switch {
			case str(e, "saleMode") == "RENT" && str(e, "tariffPlan", "code") == "B":
				planB = append(planB, str(e, "price", "amount"))
			case str(e, "saleMode") == "SALE":
				if get(e, "tariffPlan") != nil {
					t.Fatalf("sale price with a plan: %v", e)
				}
				sale = append(sale, str(e, "price", "amount"))
			}
		}
		if !slices.Equal(planB, []string{"550.00", "500.00", "400.00"}) || !slices.Equal(sale, []string{"35000.00", "30000.00"}) {
			t.Fatalf("plan B %v, sale %v", planB, sale)
		}
		if len(h) != 4+1+2+1 { // 4 rent + sale at creation, then B+sale, then B
			t.Fatalf("%d history rows: %v", len(h), h)
		}
	})

	t.Run("unchanged prices add no history", func(t *testing.T) {
		before := w.Count(t, "prices")
		res, _, ues := setPrices(t, "developer", map[string]any{"rent": []map[string]any{
			{"plan": "A", "amount": "300.00"}, {"plan": "B", "amount": "550.00"}, {"plan": "C", "amount": "900"},
		}, "sale": "35000"})
		catmOK(t, res, ues)
		if n := w.Count(t, "prices"); n != before {
			t.Fatalf("prices: %d rows, was %d", n, before)
		}
		res, _, ues = setPrices(t, "developer", map[string]any{"rent": []map[string]any{
			{"plan": "B", "amount": "550.00"}, {"plan": "D", "amount": "2100.00"},
		}})
		catmOK(t, res, ues)
		if n := w.Count(t, "prices"); n != before+1 {
			t.Fatalf("one changed price: %d rows, want %d", n, before+1)
		}
	})

	refused := []struct {
		name        string
		input       map[string]any
		code, field string
	}{
		{"negative rent", map[string]any{"rent": []map[string]any{{"plan": "B", "amount": "-1.00"}}}, "PRICE_INVALID", "input.rent.0"},
		{"negative sale", map[string]any{"sale": "-35000.00"}, "PRICE_INVALID", "input.sale"},
		{"fractions of a kopeck", map[string]any{"rent": []map[string]any{{"plan": "A", "amount": "1.00"}, {"plan": "B", "amount": "500.001"}}}, "PRICE_INVALID", "input.rent.1"},
		{"malformed sale", map[string]any{"sale": "35000.5.0"}, "", ""},
		{"not a number", map[string]any{"rent": []map[string]any{{"plan": "B", "amount": "five hundred"}}}, "", ""},
		{"number instead of a string", map[string]any{"sale": 35000}, "", ""},
		{"unknown plan", map[string]any{"rent": []map[string]any{{"plan": "Z", "amount": "500.00"}}}, "TARIFF_PLAN_UNKNOWN", "input.rent.0"},
		{"one bad price among good ones", map[string]any{"rent": []map[string]any{{"plan": "A", "amount": "1.00"}, {"plan": "C", "amount": "-5"}}, "sale": "1.00"}, "PRICE_INVALID", "input.rent.1"},
	}
	for _, tc := range refused {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			before := w.fingerprint(t)
			res, p, ues := setPrices(t, "developer", tc.input)
			if tc.code == "" {
				// Malformed decimals may be refused by the Decimal scalar
				// (top-level BAD_USER_INPUT) or by the domain (PRICE_INVALID).
				if res.Code() != "BAD_USER_INPUT" && !slices.ContainsFunc(ues, func(u catmUserError) bool { return u.Code == "PRICE_INVALID" }) {
					t.Fatalf("malformed amount accepted: %s", res.Raw)
				}
			} else {
				catmRefused(t, res, p, "configuration", ues, tc.code, tc.field)
			}
			if w.fingerprint(t) != before {
				t.Fatal("a refused price change wrote")
			}
		})
	}

	t.Run("twins", func(t *testing.T) {
		w.expectDenied(t, catmNotOwner, catmSetPrices, "setConfigurationPrices", "configuration",
			map[string]any{"id": id, "rent": []map[string]any{{"plan": "B", "amount": "1.00"}}, "sale": "1.00"})
		if r := w.read(t, "anonymous", "priced", readPrices); str(r.Data, "configuration", "rentPrice", "amount") != "550.00" {
			t.Fatalf("price changed by a refused attempt: %s", r.Raw)
		}
	})

	t.Run("history is private", func(t *testing.T) {
		for actor, visible := range map[string]bool{
			"developer": true, "admin": true, "other developer": false, "customer": false, "partner": false, "anonymous": false,
		} {
			r := w.read(t, actor, "priced", "slug "+catmPriceHistoryFields)
			if str(r.Data, "configuration", "slug") != "priced" {
				t.Fatalf("%s cannot see the configuration: %s", actor, r.Raw)
			}
			if got := get(r.Data, "configuration", "priceHistory") != nil; got != visible {
				t.Errorf("%s: priceHistory visible=%v, want %v: %s", actor, got, visible, r.Raw)
			}
		}
	})
}

// The same plan twice in one request is the client's mistake; it must be
// answered as such, not as an internal error (both rows would get the same
// valid_from and hit prices_unique).
func TestCatalogPricesSamePlanTwiceInOneRequest(t *testing.T) {
	w := newCatmWorld(t)
	id := w.create(t, "developer", map[string]any{"slug": "twice", "title": "Twice"})
	before := w.fingerprint(t)
	res, _, ues := w.mutate(t, "developer", catmSetPrices, "setConfigurationPrices", map[string]any{"id": id, "rent": []map[string]any{
		{"plan": "B", "amount": "500.00"}, {"plan": "B", "amount": "600.00"},
	}})
	if res.Code() == "INTERNAL" {
		t.Fatalf("duplicate plan answered with an internal error: %s", res.Raw)
	}
	if res.Code() == "" && len(ues) == 0 {
		// Accepting it is defensible only if one price is in force.
		r := w.read(t, "developer", "twice", `rentPrice(plan: "B") { amount }`)
		t.Logf("accepted; plan B now %s", str(r.Data, "configuration", "rentPrice", "amount"))
		return
	}
	if w.fingerprint(t) != before {
		t.Fatal("a refused price change wrote")
	}
}

// A userError names the input element at fault, also past the tenth.
func TestCatalogPriceErrorNamesItsElement(t *testing.T) {
	w := newCatmWorld(t)
	id := w.create(t, "developer", map[string]any{"slug": "eleven", "title": "Eleven"})
	var rent []map[string]any
	for i := range 10 {
		rent = append(rent, map[string]any{"plan": w.plans[i%4], "amount": "100.00"})
	}
	rent = append(rent, map[string]any{"plan": "B", "amount": "-1.00"}) // index 10
	res, p, ues := w.mutate(t, "developer", catmSetPrices, "setConfigurationPrices", map[string]any{"id": id, "rent": rent})
	catmRefused(t, res, p, "configuration", ues, "PRICE_INVALID", "")
	// Elements 4 to 9 price a plan a second time and are refused too.
	found := false
	for _, ue := range ues {
		found = found || (ue.Field == "input.rent.10" && ue.Code == "PRICE_INVALID")
	}
	if !found {
		t.Fatalf("want PRICE_INVALID on input.rent.10, got %v", ues)
	}
}
