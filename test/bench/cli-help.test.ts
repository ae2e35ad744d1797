import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { saveRequested } from '../../bench/lib/cli.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a bench script as `npm run bench:* -- <args>` does (tsx), without npm in between. */
const run = (script: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });

describe('bench scripts: --help and bad options', function () {
  this.timeout(120_000);
  for (const [script, npmScript] of [
    ['bench/poster-cpu.ts', 'bench:poster'],
    ['bench/plot.ts', 'bench:plot'],
    ['bench/fanout.ts', 'bench'],
    ['bench/coldstart.ts', 'bench:coldstart'],
    ['bench/publisher-memory.ts', 'bench:memory'],
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

describe('npm run bench: saving into docs/ is the explicit choice', function () {
  this.timeout(120_000);

  it('saves only with --save; --no-save, the old opt-out, is the default', () => {
    expect(saveRequested({})).to.equal(false);
    expect(saveRequested({ 'no-save': true })).to.equal(false);
    expect(saveRequested({ save: true })).to.equal(true);
    expect(() => saveRequested({ save: true, 'no-save': true })).to.throw('--save and --no-save exclude each other');
  });

  it('documents --save in its usage', () => {
    const out = run('bench/fanout.ts', ['--help']);
    expect(out.stdout).to.match(/^ {2}--save {2,}write the results to --out and the plot to --svg/m);
  });

  it('refuses --save with --no-save before running anything, and exits 2', () => {
    const out = run('bench/fanout.ts', ['--save', '--no-save']);
    expect(out.status).to.equal(2);
    expect(out.stderr.trim()).to.equal('error: --save and --no-save exclude each other (see --help)');
  });
});
