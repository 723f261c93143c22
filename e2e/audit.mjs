// Runs the GraphQL-over-HTTP conformance audit of the graphql-http package
// against a running server and prints one JSON line per audit.
// Usage: node audit.mjs <http url of /graphql>
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const r = await audit.fn();
  results.push({ id: audit.id, name: audit.name, status: r.status, reason: r.reason ?? '' });
}
console.log(JSON.stringify(results));
