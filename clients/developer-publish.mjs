// The developer dashboard (urql): Anna Alfa publishes version 1.1.0 of
// Callback Widget — a draft, then uploaded and submitted for review by her
// CI with an API token, revoked afterwards — while the storefront keeps
// showing 1.0.0. Prints the version for the admin scenario.
//
//   node developer-publish.mjs <http://host/graphql>
import assert from "node:assert/strict";
import { data, demo, demoPassword, newSession, noUserErrors, urql } from "./lib/clients.mjs";
import { operation } from "./lib/operations.mjs";
import { packageArchive } from "./lib/package.mjs";

const url = process.argv[2];
const session = newSession();
const client = urql({ url, session });
const anonymous = urql({ url, session: newSession() });
const op = (name) => operation("dashboard", name);

const login = noUserErrors(
  data(await client.mutation(operation("shared", "LogIn"), { input: { email: demo("alfa"), password: demoPassword } })).logIn,
);
assert.equal(login.session.role, "DEVELOPER");
Object.assign(session, login.session);

const mine = data(await client.query(op("MyConfigurations"), { first: 10 })).viewer.developer;
assert.equal(mine.slug, "alfa-solutions");
// Alfa's configurations, the draft chat bot included, and nobody else's.
assert.deepEqual(mine.configurations.nodes.map((c) => c.slug).sort(), ["callback-widget", "chat-bot", "price-lists", "quotes-builder"]);
const widget = mine.configurations.nodes.find((c) => c.slug === "callback-widget");
assert.equal(widget.state, "PUBLISHED");
assert.equal(widget.currentVersion.number, "1.0.0");

const created = noUserErrors(
  data(
    await client.mutation(op("CreateVersion"), {
      input: { configurationId: widget.id, number: "1.1.0", changelog: "Release 1.1.0: callback slots and SMS reminders." },
    }),
  ).createVersion,
);
assert.equal(created.version.state, "DRAFT");
assert.equal(created.version.number, "1.1.0");
assert.equal(created.version.configuration.id, widget.id);

// The same number twice is an expected refusal, reported as a userError.
const duplicate = data(await client.mutation(op("CreateVersion"), { input: { configurationId: widget.id, number: "1.1.0" } })).createVersion;
assert.equal(duplicate.version, null);
assert.equal(duplicate.userErrors.length, 1);
assert.ok(duplicate.userErrors[0].code.length > 0 && duplicate.userErrors[0].message.length > 0);

// The CI publishes with an API token of the developer's, made in the
// dashboard's session: the secret is shown once.
const made = noUserErrors(
  data(
    await client.mutation(op("CreateApiToken"), {
      name: "CI",
      role: "DEVELOPER",
      validUntil: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString(),
    }),
  ).createApiToken,
);
assert.match(made.secret, /^cm_[a-z2-7]{52}$/);
assert.equal(made.apiToken.prefix, made.secret.slice(0, 11));
const ciSession = { accessToken: made.secret, refreshToken: "" };
const ci = urql({ url, session: ciSession });

// The package (the CRM's export: a gzip-compressed tar with manifest.json)
// goes up by a bearer-authenticated PUT before the version is submitted.
const upload = await fetch(new URL(`/packages/versions/${encodeURIComponent(created.version.id)}`, url), {
  method: "PUT",
  headers: { Authorization: `Bearer ${ciSession.accessToken}`, "Content-Type": "application/gzip" },
  body: packageArchive({ slug: "callback-widget", version: "1.1.0", platformVersion: "2026.4" }),
});
assert.equal(upload.status, 200, await upload.clone().text());
const uploaded = await upload.json();
assert.match(uploaded.sha256, /^[0-9a-f]{64}$/);
assert.equal(uploaded.problem, null);

const submitted = noUserErrors(data(await ci.mutation(op("SubmitVersion"), { id: created.version.id })).submitVersion);
assert.equal(submitted.version.id, created.version.id);
assert.equal(submitted.version.state, "IN_REVIEW");
assert.ok(Date.parse(submitted.version.submittedAt) > 0);

const versions = data(await client.query(op("MyConfigurations"), { first: 10 })).viewer.developer.configurations.nodes.find(
  (c) => c.id === widget.id,
).versions.nodes;
assert.equal(versions.find((v) => v.id === created.version.id)?.state, "IN_REVIEW");

// Until an admin approves it, the storefront shows the approved version.
const shop = data(await anonymous.query(operation("storefront", "Configuration"), { slug: "callback-widget" })).configuration;
assert.equal(shop.currentVersion.number, "1.0.0");
// Anonymous callers cannot read a developer's drafts: viewer is null.
assert.equal(data(await anonymous.query(op("MyConfigurations"), {})).viewer, null);

// The dashboard lists the token with its last use, never its secret; once
// revoked, the CI is refused.
const tokens = data(await client.query(op("ApiTokens"), {})).viewer.apiTokens;
const listed = tokens.find((t) => t.id === made.apiToken.id);
assert.ok(listed && Date.parse(listed.lastUsedAt) > 0 && listed.revokedAt === null);
assert.ok(!JSON.stringify(tokens).includes(made.secret.slice(11)));
const revoked = noUserErrors(data(await client.mutation(op("RevokeApiToken"), { id: made.apiToken.id })).revokeApiToken);
assert.ok(Date.parse(revoked.apiToken.revokedAt) > 0);
const refused = await ci.query(op("ApiTokens"), {});
assert.equal(refused.error?.graphQLErrors?.[0]?.extensions?.code, "UNAUTHENTICATED");

console.log(JSON.stringify({ versionId: created.version.id, slug: "callback-widget", number: "1.1.0" }));
