// Subscribes to commissionAdded with the real graphql-ws client and prints
// each event as one JSON line; exits after `count` events or on error.
// Usage: node subscribe.mjs <ws url> <access token> <count>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, countArg] = process.argv.slice(2);
const count = Number(countArg || 2);

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
});

let seen = 0;
const stop = client.subscribe(
  { query: 'subscription { commissionAdded { sequence entry { amount { amount } rate } dayTotal { amount } } }' },
  {
    next: (value) => {
      console.log(JSON.stringify(value));
      seen += 1;
      if (seen >= count) {
        stop();
        client.dispose();
      }
    },
    error: (err) => {
      console.log(JSON.stringify({ error: String(err?.code ?? err?.message ?? err) }));
      client.dispose();
      process.exitCode = 1;
    },
    complete: () => {},
  },
);
setTimeout(() => { client.dispose(); process.exit(2); }, 20000).unref();
