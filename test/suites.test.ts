import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'chai';

const require = createRequire(import.meta.url);
const { UNIT, E2E } = require('./suites.cjs') as { UNIT: string[]; E2E: string[] };

/** Every file `npm test` runs (test/**\/*.test.ts), as repository paths. */
const allTests = (): string[] =>
  (readdirSync('test', { recursive: true }) as string[])
    .map((p) => `test/${p.split('\\').join('/')}`)
    .filter((p) => p.endsWith('.test.ts'))
    .sort();

/** E2E's three patterns, written out (Node 20 has no glob): a folder and two suffixes. */
const isE2e = (path: string): boolean => path.startsWith('test/e2e/') || /\.(e2e|browser)\.test\.ts$/.test(path);

describe('test suites (test/suites.cjs)', () => {
  it('names the end-to-end files by folder or suffix, as the patterns say', () => {
    expect(E2E).to.deep.equal(['test/e2e/**/*.test.ts', 'test/**/*.e2e.test.ts', 'test/**/*.browser.test.ts']);
  });

  it('lists only unit files that exist, once each, none of them end-to-end', () => {
    for (const path of UNIT) expect(existsSync(path), path).to.equal(true);
    expect(new Set(UNIT).size).to.equal(UNIT.length);
    expect(UNIT.filter(isE2e)).to.deep.equal([]);
  });

  it('puts every test file in exactly one of unit, integration and e2e', () => {
    const all = allTests();
    const unit = all.filter((p) => UNIT.includes(p));
    const e2e = all.filter(isE2e);
    const integration = all.filter((p) => !UNIT.includes(p) && !isE2e(p));
    expect(unit.length + e2e.length + integration.length).to.equal(all.length);
    expect(unit).to.have.length(UNIT.length);
    expect(e2e.length).to.be.greaterThan(0);
    expect(integration.length).to.be.greaterThan(0);
  });
});
