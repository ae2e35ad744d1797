/**
 * README's "Layout" table must list every folder of the repository, and nothing that is gone:
 * a newcomer finds each part by its folder. Folders a row covers by pattern: `functions/<route>/`
 * (one per route), and test folders that mirror a source folder (`test/local/lambda/` mirrors
 * `local/lambda/`), which the `test/` row describes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'chai';

const ROOT = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', ROOT), 'utf8');

/** The backticked folder paths (ending in `/`) of the Layout table's first column. */
function layoutFolders(): string[] {
  const section = readme.slice(readme.indexOf('## Layout'), readme.indexOf('\n## ', readme.indexOf('## Layout') + 1));
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([^`]+\/)`/g)].map((m) => m[1].replace(/\/$/, '')));
}

/** Every folder holding a tracked file. */
function trackedFolders(): string[] {
  const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
  return [...new Set(files.map((file) => dirname(file)).filter((dir) => dir !== '.'))].sort();
}

describe('README layout', () => {
  const listed = layoutFolders();

  it('reads the table', () => {
    expect(listed).to.include.members(['shared', 'local/lambda', 'test/e2e']);
  });

  it('lists every folder of the repository', () => {
    const covered = (dir: string): boolean =>
      listed.includes(dir) ||
      (dir.startsWith('functions/') && listed.includes('functions/<route>')) ||
      (dir.startsWith('test/') && existsSync(new URL(dir.slice('test/'.length), ROOT)) && listed.includes('test'));
    expect(trackedFolders().filter((dir) => !covered(dir))).to.deep.equal([]);
  });

  it('lists no folder that does not exist', () => {
    const missing = listed.filter((dir) => !dir.includes('<') && !existsSync(new URL(`${dir}/`, ROOT)));
    expect(missing).to.deep.equal([]);
  });
});
