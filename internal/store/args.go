package store

import (
	"strconv"
	"strings"
)

// sqlArgs are a statement's arguments, collected while its SQL is put
// together from the fragments a query uses.
type sqlArgs []any

// add appends v and returns its placeholder ($n).
func (a *sqlArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// whereClause is " where " and the conditions joined by and; "" for none.
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return "\n\t\twhere " + strings.Join(conds, " and ")
}
