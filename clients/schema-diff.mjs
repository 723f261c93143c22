// The schema contract: fails (exit 1) when the current schema breaks a
// client built against the last released one — a removed type or field, a
// changed argument or field type, a removed enum value, a new required
// argument or input field (graphql-js findBreakingChanges). Dangerous
// changes (a new enum value, a changed default) are printed, not fatal.
//
//   node schema-diff.mjs <released.graphqls> <current.graphqls>
import { readFileSync } from "node:fs";
import { buildSchema, findBreakingChanges, findDangerousChanges } from "graphql";

const [released, current] = process.argv.slice(2);
if (!released || !current) {
  console.error("usage: node schema-diff.mjs <released.graphqls> <current.graphqls>");
  process.exit(2);
}
const load = (file) => buildSchema(readFileSync(file, "utf8"));
const before = load(released);
const after = load(current);

for (const c of findDangerousChanges(before, after)) {
  console.log(`dangerous: ${c.type}: ${c.description}`);
}
const breaking = findBreakingChanges(before, after);
for (const c of breaking) {
  console.error(`BREAKING: ${c.type}: ${c.description}`);
}
if (breaking.length > 0) {
  console.error(`${breaking.length} breaking change(s) against ${released}; if they are intended, release a new major contract and update it`);
  process.exit(1);
}
console.log(`no breaking changes against ${released}`);
