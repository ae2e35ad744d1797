/**
 * The error codes a client can receive are the `ErrorCode` union of shared/errors.ts; the
 * README's list and docs/protocol.md's table must name each of them, and nothing else, so a code
 * added to the service cannot ship undocumented (and a removed one cannot linger in the docs).
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The string literals of `export type ErrorCode = | 'a' | 'b' ...;`, read from the source. */
function errorCodes(): string[] {
  const source = read('shared/errors.ts');
  const start = source.indexOf('export type ErrorCode =');
  const body = source.slice(start, source.indexOf(';', start));
  return [...body.matchAll(/\|\s*'([a-z_]+)'/g)].map((m) => m[1]).sort();
}

describe('documented error codes', () => {
  const codes = errorCodes();

  it('reads the union from shared/errors.ts', () => {
    expect(codes).to.include.members(['bad_json', 'internal_error']);
    expect(codes.length).to.be.greaterThan(10);
  });

  it("README's list of stable codes is exactly the union", () => {
    const line = read('README.md')
      .split('\n')
      .find((l) => l.includes('stable codes:'));
    expect(line, 'README line with "stable codes:"').to.be.a('string');
    const listed = [...(line as string).slice((line as string).indexOf('stable codes:')).matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect([...listed].sort()).to.deep.equal(codes);
  });

  it("docs/protocol.md's table has one row per code", () => {
    const rows = [...read('docs/protocol.md').matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect([...rows].sort()).to.deep.equal(codes);
  });
});
