/**
 * Cold start (issue 14): importing the fast poster, and constructing one, must not load node:tls
 * (~60 M instructions of a cold start; docs/benchmarks.md, "Cold start"). Ping and $default
 * import it for the flood guard's close and most of their containers never open a socket.
 * Checked in a fresh process: this one has loaded node:tls long ago.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Imports the poster, builds one for an https endpoint, then posts to a port nothing listens on. */
const SCRIPT = `
const tlsLoaded = () => process.moduleLoadList.includes('NativeModule tls');
const steps = { start: tlsLoaded() };
const { FastPoster } = await import('./shared/fast-poster.ts');
steps.imported = tlsLoaded();
const poster = new FastPoster({ endpoint: 'https://127.0.0.1:9/dev', region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, timeoutMs: 2000 });
steps.constructed = tlsLoaded();
steps.outcome = await poster.post('abc=', 'x');
steps.posted = tlsLoaded();
await poster.close();
process.stdout.write(JSON.stringify(steps));
`;

describe('FastPoster: node:tls on first use', function () {
  this.timeout(30_000);

  it('loads node:tls when it opens its first https socket, not when imported or constructed', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT });
    expect(JSON.parse(stdout)).to.deep.equal({ start: false, imported: false, constructed: false, outcome: 'failed', posted: true });
  });
});
