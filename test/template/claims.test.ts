/**
 * What the README and docs state about the template must be what template.yaml deploys: these
 * tests read both and fail on any drift (issue 11, "one source of truth").
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { abuseRows, abuseTable, templateLimits } from '../../bench/abuse-bounds.js';
import { loadTemplate } from '../helpers/template.js';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The README's parameter table: each row names one or more parameters and their defaults, in order. */
function readmeParameterRows(): Array<{ names: string[]; defaults: string[] }> {
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('### Parameters'));
  const rows: Array<{ names: string[]; defaults: string[] }> = [];
  for (const line of section.split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith('`')) continue;
    const names = [...cells[1].matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]);
    const defaults = [...cells[2].matchAll(/`([^`]*)`/g)].map((m) => m[1]);
    rows.push({ names, defaults });
  }
  return rows;
}

describe('claims about the template', () => {
  const parameters = loadTemplate().Parameters as Record<string, { Default?: unknown }>;

  it('the README lists every template parameter with the default the template deploys', () => {
    const rows = readmeParameterRows();
    const listed = new Map<string, string | undefined>();
    for (const { names, defaults } of rows) {
      // One default for several names means they share it; none means the template's is empty.
      names.forEach((name, i) => {
        listed.set(name, defaults.length === 0 ? undefined : (defaults[i] ?? defaults[defaults.length - 1]));
      });
    }
    const problems: string[] = [];
    for (const [name, definition] of Object.entries(parameters)) {
      const deployed = definition.Default === undefined || definition.Default === '' ? undefined : String(definition.Default);
      if (!listed.has(name)) problems.push(`${name} is not in the README (default ${deployed})`);
      else if (listed.get(name) !== deployed) problems.push(`${name}: README says ${listed.get(name)}, template.yaml deploys ${deployed}`);
    }
    for (const name of listed.keys()) if (!(name in parameters)) problems.push(`${name} is in the README but not a template parameter`);
    expect(problems).to.deep.equal([]);
  });

  it("docs/security.md's abuse table is what `npm run abuse` prints for the template's defaults", () => {
    expect(read('docs/security.md')).to.include(abuseTable(abuseRows(templateLimits())));
  });
});
