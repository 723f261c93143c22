// Package inn validates Russian taxpayer numbers (ИНН): 10 digits for
// organisations, 12 for individuals, each with check digits.
package inn

var (
	weights10  = []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	weights12a = []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	weights12b = []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
)

// Valid reports whether s is a well-formed INN whose check digits match.
func Valid(s string) bool {
	d := make([]int, len(s))
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		d[i] = int(s[i] - '0')
	}
	switch len(d) {
	case 10:
		return check(d, weights10) == d[9]
	case 12:
		return check(d, weights12a) == d[10] && check(d, weights12b) == d[11]
	}
	return false
}

func check(d, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += d[i] * w
	}
	return sum % 11 % 10
}
