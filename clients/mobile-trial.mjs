// A customer in the mobile app (Apollo Client named "mobile"): logs in,
// finds a configuration, starts a trial and converts it to a rental. The
// server runs with TRUSTED_DOCUMENT_CLIENTS=mobile, so every document goes
// out as its hash alone and must be one of the manifest's; anything else is
// refused with PERSISTED_QUERY_NOT_IN_LIST.
//
//   node mobile-trial.mjs <http://host/graphql>
import assert from "node:assert/strict";
import { gql } from "@apollo/client";
import { apollo, demo, demoPassword, errorCode, money, newSession, noUserErrors } from "./lib/clients.mjs";
import { operation } from "./lib/operations.mjs";

const url = process.argv[2];
const session = newSession();
const { client, exchanges } = apollo({ url, name: "mobile", session });
const op = (name) => operation("mobile", name);
const shared = (name) => operation("shared", name);

const login = noUserErrors(
  (await client.mutate({ mutation: shared("LogIn"), variables: { input: { email: demo("sever"), password: demoPassword } } }))
    .data.logIn,
);
assert.equal(login.session.role, "CUSTOMER");
Object.assign(session, login.session);

const { data: me } = await client.query({ query: shared("Viewer") });
assert.equal(me.viewer.role, "CUSTOMER");
assert.equal(me.viewer.customer.name, "Sever Consulting");
const plan = me.viewer.customer.tariffPlan.code;
assert.equal(plan, "A");

// Invoice Desk: a 30-day trial; rent 700.00 on plan B, so 420.00 on A.
const { data: browse } = await client.query({
  query: op("Browse"),
  variables: { first: 5, filter: { search: "invoice desk", hasTrial: true }, orderBy: { field: "RELEVANCE" }, plan },
});
const card = browse.configurations.nodes[0];
assert.equal(card.slug, "invoice-desk");
const { data: screen } = await client.query({ query: op("ConfigurationScreen"), variables: { slug: card.slug, plan } });
const conf = screen.configuration;
assert.equal(conf.id, card.id);
assert.equal(conf.trialDays, 30);
assert.deepEqual(conf.rentPrice, { __typename: "Money", amount: "420.00", currencyCode: "RUB" });

const trial = noUserErrors((await client.mutate({ mutation: op("StartTrial"), variables: { configurationId: conf.id } })).data.startTrial);
assert.equal(trial.installation.mode, "TRIAL");
assert.equal(trial.installation.state, "TRIALING");
assert.equal(trial.installation.trialDaysLeft, 30);
assert.equal(trial.installation.configuration.slug, "invoice-desk");

// A second trial of the same configuration is an expected refusal.
const twice = (await client.mutate({ mutation: op("StartTrial"), variables: { configurationId: conf.id } })).data.startTrial;
assert.equal(twice.installation, null);
assert.ok(twice.userErrors.length === 1 && twice.userErrors[0].code.length > 0, JSON.stringify(twice.userErrors));

const listed = (await client.query({ query: op("MyInstallations") })).data.viewer.customer.installations.nodes;
assert.equal(listed.find((i) => i.id === trial.installation.id)?.state, "TRIALING");

const key = `mobile-convert-${trial.installation.id}`;
const convert = () => client.mutate({ mutation: op("ConvertTrial"), variables: { configurationId: conf.id, idempotencyKey: key } });
const rental = noUserErrors((await convert()).data.convertTrial);
assert.equal(rental.installation.id, trial.installation.id, "the trial itself becomes the rental");
// The rental is billed from the trial's end: nothing is charged now, and
// the first period starts when the trial ends.
assert.equal(rental.installation.mode, "RENT");
assert.equal(rental.installation.state, "TRIALING");
assert.equal(rental.invoice, null);
assert.equal(Date.parse(rental.installation.currentPeriodStart), Date.parse(trial.installation.trialEndsAt));
// A retried tap (same idempotency key) changes nothing.
const retried = noUserErrors((await convert()).data.convertTrial);
assert.deepEqual(retried.installation, rental.installation);

// Renting outright invoices the first month now, at the plan's price, and
// gives nothing until that invoice is paid (pay before access).
const { data: other } = await client.query({ query: op("ConfigurationScreen"), variables: { slug: "budget-planner", plan } });
assert.equal(other.configuration.rentPrice.amount, "450.00");
const rent = () =>
  client.mutate({ mutation: op("RentConfiguration"), variables: { configurationId: other.configuration.id, idempotencyKey: "mobile-rent-budget-planner" } });
const rented = noUserErrors((await rent()).data.rentConfiguration);
assert.equal(rented.installation.mode, "RENT");
assert.equal(rented.installation.state, "PENDING_PAYMENT");
assert.match(rented.installation.licenseKey, /^CM-[0-9A-F]{20}$/);
assert.equal(rented.invoice.paidFor, "RENT");
assert.equal(rented.invoice.state, "OPEN");
assert.equal(money(rented.invoice.amount), money(other.configuration.rentPrice));
// The first period starts when the invoice is paid.
assert.equal(rented.invoice.periodStart, null);
assert.equal(rented.installation.currentPeriodStart, null);
assert.equal((await rent()).data.rentConfiguration.invoice.id, rented.invoice.id, "a replayed rent is the same invoice");

const mine = (await client.query({ query: op("MyInstallations") })).data.viewer.customer;
const bySlug = Object.fromEntries(mine.installations.nodes.map((i) => [i.configuration.slug, i]));
assert.equal(bySlug["invoice-desk"].mode, "RENT");
assert.equal(bySlug["budget-planner"].state, "PENDING_PAYMENT");
assert.deepEqual(
  mine.invoices.nodes.filter((i) => ["invoice-desk", "budget-planner"].includes(i.configuration.slug)).map((i) => i.id),
  [rented.invoice.id],
);

// The app refreshes its session before the access token expires.
const refreshed = noUserErrors(
  (await client.mutate({ mutation: shared("RefreshToken"), variables: { refreshToken: session.refreshToken } })).data.refreshToken,
);
assert.notEqual(refreshed.session.refreshToken, session.refreshToken);
Object.assign(session, refreshed.session);
assert.equal((await client.query({ query: shared("Viewer") })).data.viewer.customer.name, "Sever Consulting");

// Every request went out as a hash alone and was answered: the manifest's
// ids are exactly what Apollo Client hashes.
assert.ok(exchanges.length >= 10);
for (const { request, response } of exchanges) {
  assert.equal(request.query, undefined, `${request.operationName} sent its document`);
  assert.equal(response.errors, undefined, `${request.operationName}: ${JSON.stringify(response.errors)}`);
}
// A document the app did not ship with is refused.
const adHoc = gql`query AdHoc { tariffPlans { code } }`;
assert.equal(await errorCode(() => client.query({ query: adHoc })), "PERSISTED_QUERY_NOT_IN_LIST");

await client.close();
console.log(JSON.stringify({ converted: rental.installation.id, invoice: rented.invoice.id, amount: rented.invoice.amount.amount }));
