// Bundles GraphiQL into ../internal/graphiql/assets, which the Go binary
// embeds: `make graphiql` (npm ci + this script). The output is committed,
// so neither `go build` nor the server ever needs the network.
import { build } from 'esbuild';
import { copyFile, rm, mkdir } from 'node:fs/promises';

const out = new URL('../internal/graphiql/assets/', import.meta.url).pathname;
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { graphiql: 'src/main.jsx' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outdir: out,
  jsx: 'automatic',
  // Fonts and icons stay inline (data: URLs, allowed by the page's CSP).
  loader: { '.woff2': 'dataurl', '.png': 'dataurl', '.svg': 'dataurl' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'warning',
});
await copyFile('src/index.html', out + 'index.html');
