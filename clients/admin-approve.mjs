// The back office (urql): an admin finds the submitted version in the
// moderation queue and approves it; the storefront serves the new version
// at once (the public cache follows every catalog write).
//
//   node admin-approve.mjs <http://host/graphql> <versionId> <slug> <number>
import assert from "node:assert/strict";
import { data, demo, demoPassword, newSession, noUserErrors, urql } from "./lib/clients.mjs";
import { operation } from "./lib/operations.mjs";

const [url, versionId, slug, number] = process.argv.slice(2);
const session = newSession();
const client = urql({ url, session });
const anonymous = urql({ url, session: newSession() });
const op = (name) => operation("admin", name);

// Outsiders do not reach the queue: a top-level error with a code.
const outsider = await anonymous.query(op("ModerationQueue"), {});
assert.equal(outsider.error?.graphQLErrors[0]?.extensions?.code, "UNAUTHENTICATED");

const login = noUserErrors(
  data(await client.mutation(operation("shared", "LogIn"), { input: { email: demo("admin"), password: demoPassword } })).logIn,
);
assert.equal(login.session.role, "ADMIN");
Object.assign(session, login.session);

// The queues and search: outsiders are refused; the admin finds the demo's
// customer by part of its user's e-mail, and every list counts itself.
for (const name of ["PayoutQueue", "InvoiceQueue", "PinQueue", "SearchCustomers", "SearchDevelopers", "SearchPartners", "SearchUsers"]) {
  // The developer directory is public; only searching it is the admins'.
  const refused = await anonymous.query(op(name), name === "SearchDevelopers" ? { search: "alfa", first: 1 } : { first: 1 });
  assert.equal(refused.error?.graphQLErrors[0]?.extensions?.code, "UNAUTHENTICATED", name);
  const list = Object.values(data(await client.query(op(name), { first: 10 })))[0];
  assert.ok(list.totalCount >= list.nodes.length, name);
  if (!list.pageInfo.hasNextPage) assert.equal(list.totalCount, list.nodes.length, name);
}
const found = data(await client.query(op("SearchCustomers"), { search: demo("lotos").toUpperCase() })).customers;
assert.equal(found.totalCount, 1, JSON.stringify(found));
assert.equal(found.nodes.length, 1);
const overdue = data(await client.query(op("InvoiceQueue"), { overdue: true, first: 10 })).invoices;
overdue.nodes.forEach((i) => assert.equal(i.state, "OPEN"));

const queue = data(await client.query(op("ModerationQueue"), { first: 50 })).moderationQueue.nodes;
const waiting = queue.find((v) => v.id === versionId);
assert.ok(waiting, `version ${versionId} is not in the queue`);
assert.equal(waiting.state, "IN_REVIEW");
assert.equal(waiting.number, number);
assert.equal(waiting.configuration.slug, slug);
assert.notEqual(waiting.configuration.currentVersion.number, number);
// The demo's own pending review waits there too.
assert.ok(queue.some((v) => v.configuration.slug === "service-desk" && v.number === "2.1.0"));

const storefrontBefore = data(await anonymous.query(operation("storefront", "Configuration"), { slug })).configuration;

const approved = noUserErrors(data(await client.mutation(op("ApproveVersion"), { id: versionId })).approveVersion);
assert.equal(approved.version.state, "APPROVED");
assert.ok(Date.parse(approved.version.decidedAt) > 0);
assert.equal(approved.version.configuration.currentVersion.id, versionId);

// Deciding twice is an expected refusal.
const again = data(await client.mutation(op("ApproveVersion"), { id: versionId })).approveVersion;
assert.equal(again.version, null);
assert.equal(again.userErrors.length, 1);

const after = data(await client.query(op("ModerationQueue"), { first: 50 })).moderationQueue.nodes;
assert.ok(!after.some((v) => v.id === versionId), "the approved version is still queued");
assert.equal(after.length, queue.length - 1);

const storefrontAfter = data(await anonymous.query(operation("storefront", "Configuration"), { slug })).configuration;
assert.equal(storefrontBefore.currentVersion.number === number, false);
assert.equal(storefrontAfter.currentVersion.number, number);
assert.equal(storefrontAfter.currentVersion.id, versionId);

// The settings: outsiders get nothing; the admin reads SPEC's hold and
// minimum, and a value out of range is refused with nothing written.
const outsiderSettings = await anonymous.query(op("Settings"), {});
assert.equal(outsiderSettings.error?.graphQLErrors[0]?.extensions?.code, "UNAUTHENTICATED");
const settings = data(await client.query(op("Settings"), {})).settings;
const setting = (key) => settings.find((s) => s.key === key);
assert.equal(setting("payout.hold_days").value, "14");
assert.equal(setting("payout.hold_days").unit, "DAYS");
assert.equal(setting("payout.minimum").value, "1000.00");
const outOfRange = data(await client.mutation(op("UpdateSetting"), { key: "payout.hold_days", value: "91" })).updateSetting;
assert.equal(outOfRange.setting, null);
assert.equal(outOfRange.userErrors[0].code, "SETTING_OUT_OF_RANGE");

console.log(JSON.stringify({ approved: versionId, currentVersion: storefrontAfter.currentVersion.number }));
