// The storefront SPA as an anonymous visitor, on Apollo Client with
// automatic persisted queries: plans and categories, the whole public
// listing page by page, search with a typo and in Russian, filters, price
// order, a detail page, and what anonymous visitors must not see.
//
//   node storefront.mjs <http://host/graphql>
import assert from "node:assert/strict";
import { apollo, errorCode, money, newSession, sha256 } from "./lib/clients.mjs";
import { operation } from "./lib/operations.mjs";

const url = process.argv[2];
const Catalog = operation("storefront", "Catalog");
const Configurations = operation("storefront", "Configurations");
const Configuration = operation("storefront", "Configuration");

const first = apollo({ url, name: "storefront", session: newSession() });
const { data: catalog } = await first.client.query({ query: Catalog });
assert.deepEqual(catalog.tariffPlans.map((p) => p.code), ["A", "B", "C", "D"]);
assert.deepEqual(catalog.tariffPlans.filter((p) => p.isDefault).map((p) => p.code), ["B"]);
catalog.tariffPlans.forEach((p) => money(p.monthlyPrice));
assert.deepEqual(catalog.categories.map((c) => c.slug).sort(), ["finance", "hr", "logistics", "marketing", "sales", "service"]);

// APQ: the hash alone first; the server does not know it yet, so the link
// sends the document with its hash, which registers it.
assert.equal(first.exchanges.length, 2);
const [miss, register] = first.exchanges;
assert.equal(miss.request.query, undefined);
assert.equal(miss.response.errors[0].extensions.code, "PERSISTED_QUERY_NOT_FOUND");
assert.equal(sha256(register.request.query), miss.request.extensions.persistedQuery.sha256Hash);
// The next visitor's Apollo Client sends only the hash, and is answered.
const second = apollo({ url, name: "storefront", session: newSession() });
const { data: again } = await second.client.query({ query: Catalog });
assert.equal(second.exchanges.length, 1);
assert.equal(second.exchanges[0].request.query, undefined);
assert.deepEqual(again, catalog);

// The whole public listing, six cards a page, by popularity.
const { client } = first;
const seen = [];
let after = null;
let pages = 0;
for (;;) {
  const { data } = await client.query({
    query: Configurations,
    variables: { first: 6, after, orderBy: { field: "POPULARITY" }, plan: "B" },
  });
  const { edges, pageInfo } = data.configurations;
  pages++;
  assert.ok(edges.length <= 6);
  for (const { cursor, node } of edges) {
    assert.ok(cursor.length > 0);
    assert.ok(!seen.some((c) => c.id === node.id), `${node.slug} on two pages`);
    seen.push(node);
  }
  if (!pageInfo.hasNextPage) break;
  assert.equal(pageInfo.endCursor, edges.at(-1).cursor);
  after = pageInfo.endCursor;
}
assert.equal(seen.length, 20, "twenty public published configurations");
assert.equal(pages, 4);
const slugs = seen.map((c) => c.slug);
for (const hidden of ["kanban-board", "dealer-portal", "chat-bot"]) {
  assert.ok(!slugs.includes(hidden), `${hidden} is listed`);
}
const funnel = seen.find((c) => c.slug === "sales-funnel-pro");
assert.equal(funnel.rentPrice.amount, "500.00");
assert.equal(funnel.salePrice.amount, "35000.00");
assert.equal(funnel.developer.slug, "omega-soft");
seen.forEach((c) => money(c.rentPrice));

// A page is at most 100 cards.
assert.equal(
  await errorCode(() => client.query({ query: Configurations, variables: { first: 101, plan: "B" } })),
  "BAD_USER_INPUT",
);

const search = async (filter, orderBy) =>
  (await client.query({ query: Configurations, variables: { first: 20, filter, orderBy, plan: "B" } })).data
    .configurations.edges.map((e) => e.node);

const typo = await search({ search: "fleet traker" }, { field: "RELEVANCE" });
assert.equal(typo[0]?.slug, "fleet-tracker", `search with a typo: ${typo.map((c) => c.slug)}`);
const russian = await search({ search: "воронка" }, { field: "RELEVANCE" });
assert.equal(russian[0]?.slug, "voronka-prodazh", `Russian search: ${russian.map((c) => c.slug)}`);

const hrTrials = await search({ category: "hr", hasTrial: true });
assert.deepEqual(hrTrials.map((c) => c.slug).sort(), ["hr-onboarding", "kadry"]);
hrTrials.forEach((c) => assert.ok(c.trialDays > 0 && c.category.slug === "hr"));

const cheapest = await search({}, { field: "PRICE", direction: "ASC", plan: "B" });
const prices = cheapest.map((c) => money(c.rentPrice));
assert.equal(prices.length, 20);
prices.slice(1).forEach((p, i) => assert.ok(p >= prices[i], "price order"));
assert.equal(cheapest[0].slug, "price-lists");

// The detail page: a rent price on every plan, in kopecks scaled from B.
const { data: detail } = await client.query({ query: Configuration, variables: { slug: "sales-funnel-pro" } });
const c = detail.configuration;
assert.equal(c.id, funnel.id);
assert.deepEqual(
  Object.fromEntries(c.rentPrices.map((p) => [p.tariffPlan.code, p.price.amount])),
  { A: "300.00", B: "500.00", C: "1000.00", D: "2000.00" },
);
assert.equal(c.currentVersion.number, "1.2.0");
assert.ok(c.reviews.nodes.length <= 5);
c.reviews.nodes.forEach((r) => assert.ok(r.rating >= 1 && r.rating <= 5));

// Unlisted: by slug only. Private and draft: not for anonymous visitors.
const bySlug = async (slug) => (await client.query({ query: Configuration, variables: { slug } })).data.configuration;
assert.equal((await bySlug("kanban-board")).visibility, "UNLISTED");
assert.equal(await bySlug("dealer-portal"), null);
assert.equal(await bySlug("chat-bot"), null);

// The developer's page: its public profile and published work only.
const DeveloperPage = operation("storefront", "DeveloperPage");
const { data: page } = await client.query({ query: DeveloperPage, variables: { slug: c.developer.slug } });
assert.equal(page.developer.id, c.developer.id);
assert.ok(page.developer.configurations.nodes.some((x) => x.id === funnel.id));
assert.equal((await client.query({ query: DeveloperPage, variables: { slug: "no-such-developer" } })).data.developer, null);

await first.client.close();
await second.client.close();
console.log(JSON.stringify({ configurations: seen.length, pages, requests: first.exchanges.length }));
