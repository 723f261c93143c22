// Package earnings turns money received into ledger entries: the
// developer's share, the partner's commission and the platform's remainder
// (SPEC §5), and reverses them for refunds.
package earnings

import (
	"fmt"
	"math/big"

	"configmarket/internal/money"
)

// Shares is one amount split between the parties; the three always sum to
// the amount exactly.
type Shares struct {
	Developer money.Money
	Partner   money.Money
	Platform  money.Money
}

// Split divides amount: the developer gets amount × developerRate, the
// partner (if any) the platform's part × partnerRate, each rounded half-up
// to the kopeck, and the platform keeps the remainder. Rates are 0–100 %.
func Split(amount money.Money, developerRate money.Rate, partnerRate *money.Rate) (Shares, error) {
	if developerRate < 0 || developerRate > money.Percent(100) || (partnerRate != nil && (*partnerRate < 0 || *partnerRate > money.Percent(100))) {
		return Shares{}, fmt.Errorf("earnings: rate out of range")
	}
	s := Shares{Developer: amount.MulRate(developerRate), Partner: money.New(0, amount.Currency)}
	platformPart, err := amount.Sub(s.Developer)
	if err != nil {
		return Shares{}, err
	}
	if partnerRate != nil {
		s.Partner = platformPart.MulRate(*partnerRate)
	}
	if s.Platform, err = platformPart.Sub(s.Partner); err != nil {
		return Shares{}, err
	}
	return s, nil
}

// Reverse is the part of a payment's shares that a refund takes back: each
// share of the payment (original) in proportion to refund/paid, rounded
// half-up, never more than is left of it after earlier refunds (left); the
// refund that completes the payment takes back exactly what is left, so a
// full refund reverses the payment to the kopeck. The parts sum to refund.
func Reverse(paid, refund, refundedBefore money.Money, original, left Shares) Shares {
	if refundedBefore.Minor+refund.Minor >= paid.Minor {
		return left
	}
	part := func(share, remaining money.Money) money.Money {
		p := mulDiv(share.Minor, refund.Minor, paid.Minor)
		if p > remaining.Minor {
			p = remaining.Minor
		}
		return money.New(p, share.Currency)
	}
	r := Shares{Developer: part(original.Developer, left.Developer), Partner: part(original.Partner, left.Partner)}
	r.Platform = money.New(refund.Minor-r.Developer.Minor-r.Partner.Minor, refund.Currency)
	return r
}

// mulDiv is a×b/c for non-negative a, b and positive c, rounded half-up,
// exact for any int64 operands.
func mulDiv(a, b, c int64) int64 {
	n := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	q, r := new(big.Int).QuoRem(n, big.NewInt(c), new(big.Int))
	if r.Lsh(r, 1).Cmp(big.NewInt(c)) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}
