import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a bench script as `npm run bench:* -- <args>` does (tsx), without npm in between. */
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });

describe('bench scripts: --help and bad options', function () {
  this.timeout(120_000);
  for (const [script, npmScript] of [
    ['bench/poster-cpu.ts', 'bench:poster'],
    ['bench/plot.ts', 'bench:plot'],
  ]) {
    it(`${npmScript} -- --help prints its usage and exits 0, running nothing`, () => {
      const out = run(script, ['--help']);
      expect(out.status, out.stderr).to.equal(0);
      expect(out.stdout).to.match(new RegExp(`^Usage: npm run ${npmScript} -- \\[options\\]`));
      expect(out.stderr).to.equal('');
    });

    it(`${npmScript} -- --bogus names the option, with no stack trace, and exits 2`, () => {
      const out = run(script, ['--bogus']);
      expect(out.status).to.equal(2);
      expect(out.stderr.trim()).to.equal("error: Unknown option '--bogus' (see --help)");
    });
  }
});
