// Builds operations/mobile.manifest.json, the trusted documents of the mobile
// apps, in Apollo's persisted query manifest format. Each body is exactly
// what Apollo Client puts on the wire for the document (InMemoryCache adds
// __typename, graphql-js prints), so the id the client's persisted-query
// link hashes is the id the server knows.
//
//   node manifest.mjs          rewrite the manifest
//   node manifest.mjs --check  exit 1 when the committed manifest is stale
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InMemoryCache } from "@apollo/client";
import { print } from "graphql";
import { folderOperations, operation, operationsDir } from "./lib/operations.mjs";

// The folders whose documents the mobile apps may send.
const mobileFolders = ["shared", "mobile"];

export function wireBody(document) {
  return print(new InMemoryCache().transformDocument(document));
}

function build() {
  const operations = [];
  for (const folder of mobileFolders) {
    for (const name of folderOperations(folder)) {
      const body = wireBody(operation(folder, name));
      const def = operation(folder, name).definitions.find((d) => d.kind === "OperationDefinition");
      operations.push({
        id: createHash("sha256").update(body).digest("hex"),
        name: def.name.value,
        type: def.operation,
        body,
      });
    }
  }
  operations.sort((a, b) => a.name.localeCompare(b.name));
  return JSON.stringify({ format: "apollo-persisted-query-manifest", version: 1, operations }, null, 2) + "\n";
}

const target = join(operationsDir, "mobile.manifest.json");
const fresh = build();
if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(target, "utf8");
  } catch {}
  if (committed !== fresh) {
    console.error("operations/mobile.manifest.json is stale: run `node clients/manifest.mjs` and commit it");
    process.exit(1);
  }
} else {
  writeFileSync(target, fresh);
}
