package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"configmarket/internal/relay"
)

// request is one HTTP request of a load run.
type request struct {
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

// target says which server a scenario of ours runs against.
type target int

const (
	coldServer   target = iota // CACHE_DISABLED=true
	cachedServer               // Redis cache, as deployed
)

// scenario is one question asked of the three systems: ours always, the
// peer and the floor where they can express it.
type scenario struct {
	name string
	// group names the question: the peer and the floor are measured once
	// per group (the cached and uncached listing share theirs).
	group  string
	perRun int // > 0: each load run uses its own slice of ours (mutations)
	target target
	rate   int // the fixed offered rate, requests per second
	ours   []request
	peer   []request // nil: PostGraphile cannot express it without custom SQL or plugins
	floor  []string  // pgbench scripts (run with -M prepared); nil: none
}

func gql(query string, vars map[string]any, headers map[string]string) request {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return request{Headers: headers, Body: string(b)}
}

// clients counts the client addresses handed out: every request of a
// run comes from its own address in 10.0.0.0/8.
var clients int

// anonymous spreads anonymous requests over many client addresses, as a
// storefront's visitors are: the server trusts X-Forwarded-For from the
// bench's loopback proxy, so each address spends its own query budget
// (a listing of 50 costs about 1,200 of the 10,000 burst and 500/s).
func anonymous(int) map[string]string {
	clients++
	return map[string]string{"X-Forwarded-For": fmt.Sprintf("10.%d.%d.%d", clients/65536%256, clients/256%256, clients%256)}
}

// bearer is a logged-in request; its budget is its user's, whatever the
// address.
func bearer(token string, i int) map[string]string {
	h := anonymous(i)
	h["Authorization"] = "Bearer " + token
	return h
}

// --- (a) storefront listing ---------------------------------------------

// listingQuery is the storefront's first page: 50 configurations with
// developer, current version, 3 newest versions, all plan prices, rating.
func listingQuery(first int) string {
	return fmt.Sprintf(`{ configurations(first: %d) { nodes {
	slug title developer { name } currentVersion { number } versions(first: 3) { nodes { number } }
	rentPrices { tariffPlan { code } price { amount currencyCode } } salePrice { amount currencyCode } rating { average count }
} } }`, first)
}

const peerListing = `{ allConfigurations(first: 50, orderBy: [ACTIVE_INSTALLATIONS_DESC, PRIMARY_KEY_DESC],
	condition: {state: "published", visibility: "public"}) { nodes {
	slug title ratingCount ratingSum developerByDeveloperId { name }
	current: versionsByConfigurationId(first: 1, orderBy: [MAJOR_DESC, MINOR_DESC, PATCH_DESC], condition: {state: "approved"}) { nodes { major minor patch } }
	versionsByConfigurationId(first: 3, orderBy: [MAJOR_DESC, MINOR_DESC, PATCH_DESC], condition: {state: "approved"}) { nodes { major minor patch } }
	pricesByConfigurationId { nodes { kind amountMinor currency tariffPlanByTariffPlanId { code } } }
} } }`

// floorListing is the whole page in one statement: the page by the
// storefront index, developers joined, versions and prices aggregated per
// row.
const floorListing = `select c.id, c.slug, c.title, c.rating_count, c.rating_sum, d.name,
	(select array_agg(v.major || '.' || v.minor || '.' || v.patch) from (select major, minor, patch from versions v
		where v.configuration_id = c.id and v.state = 'approved' order by major desc, minor desc, patch desc limit 3) v) as versions,
	(select array_agg(p.kind || ':' || coalesce(t.code, '') || ':' || p.amount_minor || ' ' || p.currency)
		from prices p left join tariff_plans t on t.id = p.tariff_plan_id where p.configuration_id = c.id) as prices
from (select * from configurations where state = 'published' and visibility = 'public'
	order by active_installations desc, id desc limit 50) c
join developers d on d.id = c.developer_id
order by c.active_installations desc, c.id desc;
`

// anonymousRequests is how many distinct anonymous requests a scenario
// cycles through: enough that no address spends its budget in a run.
const anonymousRequests = 16384

func listing(name string, t target) scenario {
	s := scenario{name: name, target: t, rate: 50, floor: []string{floorListing}, peer: []request{gql(peerListing, nil, nil)}}
	for i := range anonymousRequests {
		s.ours = append(s.ours, gql(listingQuery(50), nil, anonymous(i)))
	}
	return s
}

// --- (b) configuration detail -------------------------------------------

// detailSlug is the n-th of a set of published public configurations
// (bench-30n+2 and bench-30n+3: Russian and English, never unlisted,
// private, suspended or archived).
func detailSlug(n int) string { return fmt.Sprintf("bench-%d", 30*n+2+n%2) }

const detailQuery = `query ($slug: String!) { configuration(slug: $slug) {
	title summary description developer { name bio } currentVersion { number changelog }
	versions(first: 5) { nodes { number changelog } }
	rentPrices { tariffPlan { code } price { amount currencyCode } } salePrice { amount currencyCode } rating { average count }
	reviews(first: 10) { nodes { rating body createdAt } }
} }`

const peerDetail = `query ($slug: String!) { configurationBySlug(slug: $slug) {
	title summary description ratingCount ratingSum developerByDeveloperId { name bio }
	versionsByConfigurationId(first: 5, orderBy: [MAJOR_DESC, MINOR_DESC, PATCH_DESC], condition: {state: "approved"}) { nodes { major minor patch changelog } }
	pricesByConfigurationId { nodes { kind amountMinor currency tariffPlanByTariffPlanId { code } } }
	reviewsByConfigurationId(first: 10, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { rating body createdAt } }
} }`

func floorDetail(slugs int) string {
	return fmt.Sprintf(`\set n random(0, %d)
select c.id, c.title, c.summary, c.description, c.rating_count, c.rating_sum, d.name, d.bio,
	(select array_agg(v.major || '.' || v.minor || '.' || v.patch || ' ' || v.changelog) from (select * from versions v
		where v.configuration_id = c.id and v.state = 'approved' order by major desc, minor desc, patch desc limit 5) v) as versions,
	(select array_agg(p.kind || ':' || coalesce(t.code, '') || ':' || p.amount_minor || ' ' || p.currency)
		from prices p left join tariff_plans t on t.id = p.tariff_plan_id where p.configuration_id = c.id) as prices,
	(select array_agg(r.rating || ' ' || r.created_at || ' ' || r.body) from (select * from reviews r
		where r.configuration_id = c.id order by created_at desc, id desc limit 10) r) as reviews
from configurations c join developers d on d.id = c.developer_id
where c.slug = 'bench-' || (30 * :n + 2 + :n %% 2);
`, slugs-1)
}

func detail(slugs int) scenario {
	s := scenario{name: "b detail by slug", target: coldServer, rate: 50, floor: []string{floorDetail(slugs)}}
	for i := range anonymousRequests {
		vars := map[string]any{"slug": detailSlug(i % slugs)}
		s.ours = append(s.ours, gql(detailQuery, vars, anonymous(i)))
		if i < 4*slugs {
			s.peer = append(s.peer, gql(peerDetail, vars, nil))
		}
	}
	return s
}

// --- (c) full-text search -----------------------------------------------

// searchTerms mix Russian and English words, a typo and prefixes.
var searchTerms = []string{"продажи", "складской учёт", "бухгалтерия", "warehouse", "accounting", "project management",
	"acounting", "бухг", "deliv", "кадровый", "clinic pro", "учебный центр"}

const searchQuery = `query ($q: String!) { configurations(first: 20, filter: {search: $q}, orderBy: {field: RELEVANCE}) {
	nodes { slug title summary rating { average count } rentPrice(plan: "B") { amount } }
} }`

// floorSearch is the storefront's search statement for one term,
// relevance order, first page, with the plan-B price of the page's rows
// joined after the limit.
func floorSearch(term, prefix string) string {
	return fmt.Sprintf(`with sq as (select %[1]s::text as raw,
	websearch_to_tsquery('russian', %[1]s) || websearch_to_tsquery('english', %[1]s) || to_tsquery('simple', %[2]s) as q)
select c.id, c.slug, c.title, c.summary, c.rating_count, c.rating_sum, rp.amount_minor
from (select c.* from configurations c cross join sq
	where c.state = 'published' and c.visibility = 'public' and (c.search @@ sq.q or sq.raw <%% c.title)
	order by round((ts_rank(c.search, sq.q) + word_similarity(sq.raw, c.title))::numeric, 6) desc, c.id desc
	limit 21) c
left join lateral (select p.amount_minor from prices p join tariff_plans t on t.id = p.tariff_plan_id and t.code = 'B'
	where p.configuration_id = c.id and p.kind = 'rent' and p.valid_from <= now() order by p.valid_from desc limit 1) rp on true;
`, quote(term), quote(prefix))
}

// prefixOf is the catalog's prefix query of a search: every word with :*.
func prefixOf(term string) string {
	words := regexp.MustCompile(`[\p{L}\p{N}]+`).FindAllString(strings.ToLower(term), 8)
	return strings.Join(words, ":* & ") + ":*"
}

func quote(s string) string { return "'" + escapeQuotes(s) + "'" }

func escapeQuotes(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\'' {
			out = append(out, '\'')
		}
		out = append(out, r)
	}
	return string(out)
}

func search() scenario {
	s := scenario{name: "c full-text search", target: coldServer, rate: 50}
	for _, t := range searchTerms {
		s.floor = append(s.floor, floorSearch(t, prefixOf(t)))
	}
	for i := range anonymousRequests {
		s.ours = append(s.ours, gql(searchQuery, map[string]any{"q": searchTerms[i%len(searchTerms)]}, anonymous(i)))
	}
	return s
}

// --- (d) developer dashboard --------------------------------------------

const dashboardQuery = `{ viewer { developer {
	installations(first: 50) { nodes { id state mode createdAt configuration { slug title } } }
	payments(first: 50) { nodes { id paidFor amount { amount currencyCode } receivedAt configuration { title } } }
} } }`

func floorDashboard(developers int) string {
	return fmt.Sprintf(`\set d random(0, %d)
select i.id, i.state, i.mode, i.created_at, c.slug, c.title from installations i
join configurations c on c.id = i.configuration_id
where c.developer_id = md5('developer:' || :d)::uuid order by i.created_at desc, i.id desc limit 50;
select p.id, p.paid_for, p.amount_minor, p.currency, p.received_at, c.title from payments p
join configurations c on c.id = p.configuration_id
where c.developer_id = md5('developer:' || :d)::uuid order by p.received_at desc, p.id desc limit 50;
`, developers-1)
}

func dashboard(tokens []string) scenario {
	s := scenario{name: "d developer dashboard", target: cachedServer, rate: 50, floor: []string{floorDashboard(len(tokens))}}
	for i := range 4 * len(tokens) {
		s.ours = append(s.ours, gql(dashboardQuery, nil, bearer(tokens[i%len(tokens)], i)))
	}
	return s
}

// --- (e) partner earnings totals ----------------------------------------

const partnerQuery = `{ viewer { partner {
	byMonth: commissionTotals(groupBy: MONTH) { key entries gross { amount } share { amount currencyCode } }
	byKind: commissionTotals(groupBy: PAID_FOR) { key entries gross { amount } share { amount currencyCode } }
} } }`

// floorPartner is both aggregates in one pass (grouping sets), gross from
// the payments behind the entries, as the API reports it.
func floorPartner(partners int) string {
	return fmt.Sprintf(`\set p random(0, %d)
select date_trunc('month', e.occurred_at at time zone 'UTC') as month, e.paid_for,
	sum(p.amount_minor) as gross, sum(e.amount_minor) as share, count(*) as entries
from ledger_entries e join payments p on p.id = e.payment_id
where e.partner_id = md5('partner:' || :p)::uuid
group by grouping sets ((1), (2));
`, partners-1)
}

func partnerTotals(tokens []string) scenario {
	s := scenario{name: "e partner earnings totals", target: cachedServer, rate: 50, floor: []string{floorPartner(len(tokens))}}
	for i := range 4 * len(tokens) {
		s.ours = append(s.ours, gql(partnerQuery, nil, bearer(tokens[i%len(tokens)], i)))
	}
	return s
}

// --- (f) mutation mix ---------------------------------------------------

const (
	startTrialMutation    = `mutation ($id: ID!) { startTrial(input: {configurationId: $id}) { installation { id state } userErrors { code message } } }`
	recordPaymentMutation = `mutation ($in: RecordPaymentInput!) { recordPayment(input: $in) { payment { id } userErrors { code message } } }`
	requestPayoutMutation = `mutation ($in: RequestPayoutInput!) { requestPayout(input: $in) { payout { id } userErrors { code message } } }`
)

// mutationInputs are the rows a mix may use once each: trials nobody
// started, invoices still open, developers with money to pay out.
type mutationInputs struct {
	customers     []session // fresh customers
	configs       []uuid.UUID
	admins        []session
	invoices      []openInvoice
	payoutTargets []payoutTarget // developers with an available balance
	payoutMethod  map[string]string
}

// payoutTarget is a developer and how many more payouts its balance allows.
type payoutTarget struct {
	session
	left int
}

// payoutMinor is each requested payout: the minimum, 1,000.00.
const payoutMinor = 100_000

type openInvoice struct {
	id     uuid.UUID
	amount int64
}

// mutations interleaves n of each kind: start a trial, record a payment
// (split into ledger entries), request a payout. Each request is unique:
// a (customer, configuration) pair never tried, an invoice still open, a
// fresh idempotency key.
func mutations(ctx context.Context, db *pgx.Conn, in mutationInputs, n int, runID string) (scenario, error) {
	s := scenario{name: "f mutation mix", target: cachedServer, rate: 20}
	tried := map[[2]uuid.UUID]bool{}
	rows, err := db.Query(ctx, `select customer_id, configuration_id from trials where customer_id = any($1)`, sessionOrgs(in.customers))
	if err != nil {
		return s, err
	}
	for rows.Next() {
		var k [2]uuid.UUID
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return s, err
		}
		tried[k] = true
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	// Pairs in order: every fresh customer with the first configuration,
	// then the next one, skipping those tried in earlier runs.
	pair, pairs, payout := 0, len(in.customers)*len(in.configs), 0
	for i := range n {
		started := false
		for ; pair < pairs && !started; pair++ {
			c := in.customers[pair%len(in.customers)]
			cfg := in.configs[pair/len(in.customers)]
			if !tried[[2]uuid.UUID{c.org, cfg}] {
				s.ours = append(s.ours, gql(startTrialMutation, map[string]any{"id": relay.ID("Configuration", cfg.String())}, bearer(c.token, i)))
				started = true
			}
		}
		if !started {
			return s, fmt.Errorf("mutation mix: every fresh customer has tried every configuration; reload the bench database")
		}
		if i < len(in.invoices) {
			inv := in.invoices[i]
			admin := in.admins[i%len(in.admins)]
			s.ours = append(s.ours, gql(recordPaymentMutation, map[string]any{"in": map[string]any{
				"invoiceId": relay.ID("Invoice", inv.id.String()), "amount": fmt.Sprintf("%d.%02d", inv.amount/100, inv.amount%100),
				"reference": fmt.Sprintf("bench-%s-%d", runID, i), "idempotencyKey": fmt.Sprintf("bench-%s-pay-%d", runID, i),
			}}, bearer(admin.token, i)))
		}
		// The next developer round the table that can still be paid.
		for range in.payoutTargets {
			t := &in.payoutTargets[payout%len(in.payoutTargets)]
			payout++
			if t.left > 0 {
				t.left--
				s.ours = append(s.ours, gql(requestPayoutMutation, map[string]any{"in": map[string]any{
					"amount": fmt.Sprintf("%d.00", payoutMinor/100), "method": in.payoutMethod[t.email],
					"idempotencyKey": fmt.Sprintf("bench-%s-payout-%d", runID, i),
				}}, bearer(t.token, i)))
				break
			}
		}
	}
	return s, nil
}
