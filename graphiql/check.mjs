// Drives the GraphiQL page in headless Chromium (Debian's /usr/bin/chromium;
// playwright-core never downloads a browser): opens the explorer, types a
// query, runs it, prints what the result pane shows as one JSON line and
// writes a screenshot. Used by internal/app/apitest/graphiql_test.go:
//   node graphiql/check.mjs <server url> <screenshot.png> <query> <expected text>
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, screenshot, query, expected] = process.argv.slice(2);
const origin = new URL(base).origin;
const profile = mkdtempSync(join(tmpdir(), 'cm-chromium-'));
const report = { result: '', cspViolations: [], foreignRequests: [], pageErrors: [] };

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 800 },
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('ws' + origin.slice(4))) {
      report.foreignRequests.push(url);
    }
  });
  page.on('console', (msg) => {
    if (/Content.Security.Policy/i.test(msg.text())) report.cspViolations.push(msg.text());
  });
  page.on('pageerror', (err) => report.pageErrors.push(String(err)));
  await page.goto(base + '/graphiql', { waitUntil: 'load' });

  const editor = page.locator('.graphiql-query-editor .CodeMirror');
  await editor.waitFor({ timeout: 30_000 });
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // Typed key by key, as a person would (the editor closes brackets
  // itself, and typing a closing one steps over it).
  await page.keyboard.type(query, { delay: 10 });
  await page.keyboard.press('Escape'); // close any completion popup
  await page.keyboard.press('Control+Enter');

  const result = page.locator('.graphiql-response .CodeMirror');
  await page.waitForFunction(
    (text) => document.querySelector('.graphiql-response .CodeMirror')?.innerText.includes(text),
    expected, { timeout: 30_000 },
  ).catch(() => {});
  report.result = await result.innerText();
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(report));
