// The real client libraries as the apps configure them: Apollo Client
// (automatic persisted queries over HTTP, subscriptions over graphql-ws) for
// the storefront, the mobile apps and partner analytics; urql for the
// developer dashboard and the back office.
import { createHash } from "node:crypto";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { isSubscriptionOperation } from "@apollo/client/utilities";
import { Client as UrqlClient, fetchExchange } from "@urql/core";
import { createClient as createWsClient } from "graphql-ws";
import WebSocket from "ws";
import assert from "node:assert/strict";

export const sha256 = (text) => createHash("sha256").update(text).digest("hex");

// A session holds the current access token; logIn fills it.
export function newSession() {
  return { accessToken: "", refreshToken: "" };
}

// wire wraps fetch to record every HTTP exchange, so scenarios can assert
// what actually crossed the network (hash-only requests, say).
function recordingFetch(exchanges) {
  return async (url, init) => {
    const res = await fetch(url, init);
    const response = await res.clone().json().catch(() => null);
    exchanges.push({ request: JSON.parse(init.body), status: res.status, response });
    return res;
  };
}

// apollo builds an Apollo Client named `name` (sent as
// apollographql-client-name). Queries always go to the network: scenarios
// check the server, not the cache.
export function apollo({ url, name, session, exchanges = [], subscriptions = false }) {
  const auth = new SetContextLink(({ headers }) =>
    session.accessToken ? { headers: { ...headers, authorization: `Bearer ${session.accessToken}` } } : {},
  );
  let link = ApolloLink.from([
    auth,
    new PersistedQueryLink({ sha256 }),
    new HttpLink({ uri: url, fetch: recordingFetch(exchanges) }),
  ]);
  let ws = null;
  if (subscriptions) {
    ws = createWsClient({
      url: url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      // The server reads the token from connection_init, once per socket.
      connectionParams: () => ({ Authorization: `Bearer ${session.accessToken}` }),
      retryAttempts: 0,
    });
    link = ApolloLink.split(({ query }) => isSubscriptionOperation(query), new GraphQLWsLink(ws), link);
  }
  const client = new ApolloClient({
    link,
    cache: new InMemoryCache(),
    clientAwareness: { name, version: "1.0.0" },
    defaultOptions: { query: { fetchPolicy: "network-only" } },
  });
  client.close = async () => {
    client.stop();
    if (ws) await ws.dispose();
  };
  return { client, exchanges };
}

// urql builds an urql client; queries go to the network, as POST (the API
// refuses GET).
export function urql({ url, session }) {
  return new UrqlClient({
    url,
    exchanges: [fetchExchange],
    preferGetMethod: false,
    requestPolicy: "network-only",
    fetchOptions: () => (session.accessToken ? { headers: { authorization: `Bearer ${session.accessToken}` } } : {}),
  });
}

// data returns an urql result's data, failing on any error.
export function data(result) {
  assert.equal(result.error, undefined, `urql: ${result.error?.message}`);
  return result.data;
}

// noUserErrors fails when a mutation payload reports userErrors.
export function noUserErrors(payload) {
  assert.deepEqual(payload.userErrors, [], `userErrors: ${JSON.stringify(payload.userErrors)}`);
  return payload;
}

// errorCode runs a failing Apollo call and returns the first error's
// extensions.code.
export async function errorCode(call) {
  try {
    await call();
  } catch (err) {
    const code = err.errors?.[0]?.extensions?.code;
    assert.ok(code, `an error without extensions.code: ${err}`);
    return code;
  }
  assert.fail("the call succeeded");
}

// money reads a Money value into integer minor units (kopecks). Amounts
// are decimal strings with exactly the currency's minor digits: never
// parse them as floats.
export function money(m, currency = "RUB") {
  assert.equal(m.currencyCode, currency);
  assert.match(m.amount, /^-?\d+\.\d{2}$/, `amount ${m.amount}`);
  const negative = m.amount.startsWith("-");
  const [units, cents] = m.amount.replace("-", "").split(".");
  const minor = BigInt(units) * 100n + BigInt(cents);
  return negative ? -minor : minor;
}

// format renders minor units as the API does.
export function format(minor) {
  const sign = minor < 0n ? "-" : "";
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}

// percentOf applies a rate in whole percent, rounded half-up to the kopeck
// (the API's rule for every share).
export function percentOf(minor, percent) {
  return (minor * BigInt(percent) + 50n) / 100n;
}

export const demoPassword = "demo-password";
export const demo = (name) => `${name}@configmarket.test`;
