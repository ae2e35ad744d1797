// Runs one built Lambda bundle's handler with one event, in a fresh process (Node 22, the
// deployed runtime's major version), and prints the result as JSON on the last stdout line.
// Usage: node run-bundle.mjs <bundle.mjs> <event.json>
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
try {
  const mod = await import(pathToFileURL(bundle).href);
  const result = await mod.handler(event, { functionName: 'smoke', awsRequestId: 'smoke-1', getRemainingTimeInMillis: () => 10_000 });
  process.stdout.write(`\n${JSON.stringify({ ok: true, result: result ?? null })}\n`);
} catch (error) {
  process.stdout.write(`\n${JSON.stringify({ ok: false, name: error?.name, message: error?.message })}\n`);
}
