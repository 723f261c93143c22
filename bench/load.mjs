// One load run with autocannon: POSTs the given requests in turn (one
// shared sequence for every connection, so no request is sent twice),
// at a fixed concurrency or a fixed offered rate, and prints the result as
// one JSON line. An answer is an error unless it is HTTP 200 with no
// GraphQL "errors" and no non-empty "userErrors".
//
//   node load.mjs spec.json
//   spec: {url, connections, seconds, rate, requests: [{headers, body}]}
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
let next = 0;
let errors = 0;
let firstError = "";
const failed = /"errors"\s*:|"userErrors"\s*:\s*\[\s*\{/;

const instance = autocannon(
  {
    url: spec.url,
    method: "POST",
    connections: spec.connections,
    duration: spec.seconds,
    overallRate: spec.rate || undefined,
    timeout: 10,
    requests: [
      {
        setupRequest: (req) => {
          const r = spec.requests[next++ % spec.requests.length];
          return { ...req, method: "POST", headers: { "content-type": "application/json", ...r.headers }, body: r.body };
        },
        onResponse: (status, body) => {
          if (status !== 200 || failed.test(body)) {
            errors++;
            if (!firstError) firstError = `${status} ${String(body).slice(0, 300)}`;
          }
        },
      },
    ],
  },
  (err, res) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    console.log(
      JSON.stringify({
        requests: res.requests.total,
        seconds: res.duration,
        rps: res.requests.total / res.duration,
        p50: res.latency.p50,
        p99: res.latency.p99,
        errors: errors + res.errors + res.timeouts,
        non2xx: res.non2xx,
        firstError,
      }),
    );
  },
);
process.on("SIGINT", () => instance.stop());
