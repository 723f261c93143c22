// Partner analytics (Apollo Client, subscriptions over graphql-ws): Dealer
// pins the customer Lotos, Lotos confirms in its app, Dealer subscribes to
// commissionAdded; Lotos rents Fleet Tracker and the back office records
// the payment; the commission arrives live with the exact amount and the
// running totals move by it.
//
//   node partner-live.mjs <http://host/graphql>
import assert from "node:assert/strict";
import {
  apollo,
  data,
  demo,
  demoPassword,
  format,
  money,
  newSession,
  noUserErrors,
  percentOf,
  urql,
} from "./lib/clients.mjs";
import { operation } from "./lib/operations.mjs";

const url = process.argv[2];
const logIn = async (client, email) =>
  noUserErrors(data(await client.mutation(operation("shared", "LogIn"), { input: { email, password: demoPassword } })).logIn).session;

// The partner's app.
const partnerSession = newSession();
const partner = apollo({ url, name: "partner-analytics", session: partnerSession, subscriptions: true }).client;
const partnerLogin = noUserErrors(
  (await partner.mutate({ mutation: operation("shared", "LogIn"), variables: { input: { email: demo("dealer"), password: demoPassword } } }))
    .data.logIn,
);
assert.equal(partnerLogin.session.role, "PARTNER");
Object.assign(partnerSession, partnerLogin.session);

// The customer's and the back office's clients.
const customerSession = newSession();
const customer = urql({ url, session: customerSession });
Object.assign(customerSession, await logIn(customer, demo("lotos")));
const adminSession = newSession();
const admin = urql({ url, session: adminSession });
Object.assign(adminSession, await logIn(admin, demo("admin")));

// Lotos already pays for a rental, so the pin waits for its confirmation.
const pinned = noUserErrors(
  (await partner.mutate({ mutation: operation("partner", "PinCustomer"), variables: { input: { crmAccountId: "crm-lotos" } } })).data
    .pinCustomer,
);
assert.equal(pinned.pin.state, "PENDING");
assert.equal(pinned.pin.requestedVia, "crm_account_id");
const asked = data(await customer.query(operation("mobile", "MyPins"), {})).viewer.customer.pins.find((p) => p.id === pinned.pin.id);
assert.equal(asked?.partnerName, "Dealer Partner LLC");
const confirmed = noUserErrors(data(await customer.mutation(operation("mobile", "ConfirmPin"), { id: pinned.pin.id })).confirmPin);
assert.equal(confirmed.pin.state, "ACTIVE");
assert.ok(Date.parse(confirmed.pin.expiresAt) > Date.now() + 89 * 86400_000);

// Subscribe; the first event is a snapshot of the running totals.
const events = [];
const waiters = [];
const subscription = partner.subscribe({ query: operation("partner", "CommissionAdded") }).subscribe({
  next: (result) => {
    if (result.error) throw result.error;
    events.push(result.data.commissionAdded);
    waiters.splice(0).forEach((w) => w());
  },
  error: (err) => {
    console.error("subscription failed:", err);
    process.exit(1);
  },
});
const nextEvent = async (index) => {
  const deadline = Date.now() + 15_000;
  while (events.length <= index) {
    assert.ok(Date.now() < deadline, `no event #${index} within 15s`);
    await new Promise((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 500);
    });
  }
  return events[index];
};
const snapshot = await nextEvent(0);
assert.equal(snapshot.entry, null);
const dayBefore = money(snapshot.dayTotal);
const monthBefore = money(snapshot.monthTotal);

// Lotos (plan A) rents Fleet Tracker: 1,200.00 on plan B, 720.00 on A.
const conf = data(await customer.query(operation("mobile", "ConfigurationScreen"), { slug: "fleet-tracker", plan: "A" })).configuration;
assert.equal(conf.rentPrice.amount, "720.00");
const rent = noUserErrors(
  data(await customer.mutation(operation("mobile", "RentConfiguration"), { configurationId: conf.id, idempotencyKey: "lotos-fleet-1" }))
    .rentConfiguration,
);
assert.equal(rent.invoice.state, "OPEN");
assert.equal(rent.invoice.amount.amount, "720.00");

const payment = noUserErrors(
  data(
    await admin.mutation(operation("admin", "RecordPayment"), {
      input: { invoiceId: rent.invoice.id, amount: rent.invoice.amount.amount, reference: "bank transfer 4711", idempotencyKey: "pay-lotos-fleet-1" },
    }),
  ).recordPayment,
);
assert.equal(payment.payment.paidFor, "RENT");
assert.equal(payment.payment.amount.amount, "720.00");

// The split: a premium developer supporting its own customers keeps 75%;
// a dealer earns 25% of the platform's part of a rent (SPEC §5).
assert.equal(conf.developer.status, "PREMIUM");
assert.equal(conf.supportMode, "DEVELOPER");
const paid = money(payment.payment.amount);
const expected = percentOf(paid - percentOf(paid, 75), 25);
assert.equal(format(expected), "45.00");

const event = await nextEvent(1);
assert.equal(event.entry.party, "PARTNER");
assert.equal(event.entry.paidFor, "RENT");
assert.equal(event.entry.rate, "25%");
assert.equal(event.entry.reversal, false);
assert.equal(event.entry.configuration.slug, "fleet-tracker");
assert.equal(money(event.entry.amount), expected);
assert.equal(money(event.dayTotal), dayBefore + expected);
assert.equal(money(event.monthTotal), monthBefore + expected);

// Analytics agree with the stream.
const { data: analytics } = await partner.query({ query: operation("partner", "PartnerAnalytics"), variables: { first: 5 } });
const p = analytics.viewer.partner;
assert.equal(p.status, "DEALER");
assert.equal(money(p.commissions.nodes[0].amount), expected);
assert.equal(p.commissions.nodes[0].configuration.slug, "fleet-tracker");
// Dealer's first commission: the totals are exactly this payment.
const rents = p.commissionTotals.find((t) => t.key === "rent");
assert.equal(money(rents.gross), paid);
assert.equal(money(rents.share), expected);
assert.equal(rents.entries, 1);
assert.ok(p.pins.nodes.some((pin) => pin.id === pinned.pin.id && pin.state === "ACTIVE"));

subscription.unsubscribe();
await partner.close();
console.log(JSON.stringify({ commission: format(expected), dayTotal: event.dayTotal.amount, events: events.length }));
