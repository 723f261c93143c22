// The clients' GraphQL documents, read from ../operations (one operation per
// file, named like the file), so the scripts send exactly what the
// repository's validated documents say.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "graphql";

export const operationsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "operations");

const parsed = new Map();

// operation returns the parsed document of operations/<folder>/<name>.graphql.
export function operation(folder, name) {
  const key = `${folder}/${name}`;
  if (!parsed.has(key)) {
    parsed.set(key, parse(readFileSync(join(operationsDir, folder, `${name}.graphql`), "utf8")));
  }
  return parsed.get(key);
}

// folderOperations lists a folder's operation names, sorted.
export function folderOperations(folder) {
  return readdirSync(join(operationsDir, folder))
    .filter((f) => f.endsWith(".graphql"))
    .map((f) => f.slice(0, -".graphql".length))
    .sort();
}
