// Runs one built Lambda bundle's handler with one event, in a fresh process (Node 22, the
// deployed runtime's major version), and prints the result as JSON on the last stdout line.
// Usage: node run-bundle.mjs <bundle.mjs> <event.json> [remaining ms]
// The Lambda context reports the function's Timeout as the time left (the smoke test passes it
// from template.yaml): the fan-out worker plans its work from it.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, eventFile, remaining = '10000'] = process.argv.slice(2);
const started = Date.now();
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
try {
  const mod = await import(pathToFileURL(bundle).href);
  const result = await mod.handler(event, {
    functionName: 'smoke',
    awsRequestId: 'smoke-1',
    getRemainingTimeInMillis: () => Number(remaining) - (Date.now() - started),
  });
  process.stdout.write(`\n${JSON.stringify({ ok: true, result: result ?? null })}\n`);
} catch (error) {
  process.stdout.write(`\n${JSON.stringify({ ok: false, name: error?.name, message: error?.message })}\n`);
}
