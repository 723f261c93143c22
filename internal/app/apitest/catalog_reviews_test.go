package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"

	"configmarket/internal/factory"
)

func TestCatalogReviews(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "reviewed", "Reviewed")
	second := factory.Customer(t, w.Store)
	stranger := factory.Customer(t, w.Store)
	w.tok["second customer"], _ = w.LogIn(t, second, nil)
	w.tok["customer without installation"], _ = w.LogIn(t, stranger, nil)
	w.install(t, w.customer.OrgID, id)
	w.install(t, second.OrgID, id)
	rating := func(t *testing.T) string {
		t.Helper()
		r := w.read(t, "anonymous", "reviewed", "rating { average count }")
		b, _ := json.Marshal(get(r.Data, "configuration", "rating"))
		return string(b)
	}
	if got := rating(t); got != `{"average":null,"count":0}` { // and cached
		t.Fatalf("no reviews yet: %s", got)
	}
	input := func(r int) map[string]any {
		return map[string]any{"configurationId": id, "rating": r, "body": "Works for us"}
	}

	t.Run("createReview twins", func(t *testing.T) {
		w.expectDenied(t, catmNotCustomer, catmCreateReview, "createReview", "review", input(5))
	})
	t.Run("without an installation", func(t *testing.T) {
		before := w.fingerprint(t)
		res, p, ues := w.mutate(t, "customer without installation", catmCreateReview, "createReview", input(5))
		catmRefused(t, res, p, "review", ues, "NOT_INSTALLED", "")
		if w.fingerprint(t) != before {
			t.Fatal("wrote")
		}
	})
	for _, r := range []int{0, 6, -1} {
		t.Run(fmt.Sprintf("rating %d", r), func(t *testing.T) {
			before := w.fingerprint(t)
			res, p, ues := w.mutate(t, "customer", catmCreateReview, "createReview", input(r))
			catmRefused(t, res, p, "review", ues, "RATING_INVALID", "input.rating")
			if w.fingerprint(t) != before {
				t.Fatal("wrote")
			}
		})
	}

	res, p, ues := w.mutate(t, "customer", catmCreateReview, "createReview", input(4))
	catmOK(t, res, ues)
	reviewID := str(p, "review", "id")
	if get(p, "review", "rating") != float64(4) || str(p, "review", "body") != "Works for us" || !strings.HasPrefix(str(p, "review", "authorName"), "Customer ") {
		t.Fatalf("review: %s", res.Raw)
	}
	if got := rating(t); got != `{"average":4,"count":1}` {
		t.Fatalf("after one review: %s", got)
	}

	t.Run("one review per customer", func(t *testing.T) {
		before := w.fingerprint(t)
		res, p, ues := w.mutate(t, "customer", catmCreateReview, "createReview", input(1))
		catmRefused(t, res, p, "review", ues, "ALREADY_REVIEWED", "")
		if w.fingerprint(t) != before {
			t.Fatal("wrote")
		}
	})

	res, _, ues = w.mutate(t, "second customer", catmCreateReview, "createReview", input(1))
	catmOK(t, res, ues)
	if got := rating(t); got != `{"average":2.5,"count":2}` {
		t.Fatalf("after two reviews: %s", got)
	}

	t.Run("author edits", func(t *testing.T) {
		res, p, ues := w.mutate(t, "customer", catmUpdateReview, "updateReview", map[string]any{"id": reviewID, "rating": 5, "body": "Even better"})
		catmOK(t, res, ues)
		if get(p, "review", "rating") != float64(5) || str(p, "review", "body") != "Even better" {
			t.Fatalf("update: %s", res.Raw)
		}
		if got := rating(t); got != `{"average":3,"count":2}` {
			t.Fatalf("after the edit: %s", got)
		}
		r := w.read(t, "anonymous", "reviewed", "reviews(first: 5) { nodes { id rating body } }")
		if !strings.Contains(r.Raw, `"rating":5,"body":"Even better"`) {
			t.Fatalf("edited review not shown: %s", r.Raw)
		}
	})
	t.Run("invalid edit", func(t *testing.T) {
		res, p, ues := w.mutate(t, "customer", catmUpdateReview, "updateReview", map[string]any{"id": reviewID, "rating": 0})
		catmRefused(t, res, p, "review", ues, "RATING_INVALID", "input.rating")
	})
	t.Run("updateReview twins", func(t *testing.T) {
		w.expectDenied(t, append([]catmDenial{
			{"second customer", "", "NOT_FOUND"},
			{"customer without installation", "", "NOT_FOUND"},
		}, catmNotCustomer...), catmUpdateReview, "updateReview", "review", map[string]any{"id": reviewID, "rating": 1, "body": "Hijacked"})
		if got := rating(t); got != `{"average":3,"count":2}` {
			t.Fatalf("rating changed by a refused edit: %s", got)
		}
	})
}

// catmPost is do without testing.T, for goroutines.
func (w *catmWorld) catmPost(token, query string, vars map[string]any) (Response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, w.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	out := Response{Status: res.StatusCode, Raw: buf.String()}
	return out, json.Unmarshal(buf.Bytes(), &out)
}

// concurrently runs one request per token at the same moment and returns
// the responses in token order.
func (w *catmWorld) concurrently(t *testing.T, tokens []string, query string, vars func(i int) map[string]any) []Response {
	t.Helper()
	out := make([]Response, len(tokens))
	errs := make([]error, len(tokens))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() {
			<-start
			out[i], errs[i] = w.catmPost(tok, query, vars(i))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

func TestCatalogConcurrentReviews(t *testing.T) {
	w := newCatmWorld(t)
	id, _ := w.publish(t, "developer", "popular", "Popular")
	const n = 20
	tokens := make([]string, n)
	ratings := make([]int, n)
	sum := 0
	for i := range n {
		c := factory.Customer(t, w.Store)
		w.install(t, c.OrgID, id)
		tokens[i], _ = w.LogIn(t, c, nil)
		ratings[i] = []int{5, 5, 4, 3, 5, 1, 4, 2}[i%8] // sum 75, mean 3.75
		sum += ratings[i]
	}
	check := func(t *testing.T, sum int) {
		t.Helper()
		r := w.read(t, "anonymous", "popular", "rating { average count } reviews(first: 100) { nodes { rating } }")
		want := math.Round(float64(sum)/n*100) / 100
		if get(r.Data, "configuration", "rating", "count") != float64(n) || get(r.Data, "configuration", "rating", "average") != want {
			t.Fatalf("rating: %s, want average %v of %d", r.Raw, want, n)
		}
		if nodes := get(r.Data, "configuration", "reviews", "nodes").([]any); len(nodes) != n {
			t.Fatalf("%d reviews listed", len(nodes))
		}
		var count, total int
		if err := w.Pool.QueryRow(context.Background(), `select rating_count, rating_sum from configurations where id = $1`,
			catmUUID(t, id, "Configuration")).Scan(&count, &total); err != nil || count != n || total != sum {
			t.Fatalf("counters %d/%d, want %d/%d (%v)", count, total, n, sum, err)
		}
	}

	created := w.concurrently(t, tokens, catmCreateReview, func(i int) map[string]any {
		return map[string]any{"input": map[string]any{"configurationId": id, "rating": ratings[i]}}
	})
	reviewIDs := make([]string, n)
	for i, res := range created {
		if res.Code() != "" || len(catmUserErrors(res, "createReview")) > 0 {
			t.Fatalf("review %d: %s", i, res.Raw)
		}
		reviewIDs[i] = str(res.Data, "createReview", "review", "id")
	}
	check(t, sum)

	// Every author changes its mind at once: r becomes 6-r.
	updated := w.concurrently(t, tokens, catmUpdateReview, func(i int) map[string]any {
		return map[string]any{"input": map[string]any{"id": reviewIDs[i], "rating": 6 - ratings[i]}}
	})
	for i, res := range updated {
		if res.Code() != "" || len(catmUserErrors(res, "updateReview")) > 0 {
			t.Fatalf("update %d: %s", i, res.Raw)
		}
	}
	check(t, 6*n-sum)

	t.Run("one customer racing itself gets one review", func(t *testing.T) {
		c := factory.Customer(t, w.Store)
		w.install(t, c.OrgID, id)
		tok, _ := w.LogIn(t, c, nil)
		tokens := []string{tok, tok, tok, tok, tok}
		res := w.concurrently(t, tokens, catmCreateReview, func(int) map[string]any {
			return map[string]any{"input": map[string]any{"configurationId": id, "rating": 5}}
		})
		ok, already := 0, 0
		for _, r := range res {
			ues := catmUserErrors(r, "createReview")
			switch {
			case r.Code() == "" && len(ues) == 0:
				ok++
			case len(ues) == 1 && ues[0].Code == "ALREADY_REVIEWED":
				already++
			default:
				t.Errorf("unexpected answer: %s", r.Raw)
			}
		}
		if ok != 1 || already != len(tokens)-1 {
			t.Fatalf("%d created, %d ALREADY_REVIEWED", ok, already)
		}
		if got := w.countWhere(t, `select count(*) from reviews where customer_id = $1`, c.OrgID); got != 1 {
			t.Fatalf("%d reviews", got)
		}
	})
}
