// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the client source written here is a TypeScript template literal.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { StaticSite } from '../../local/static.js';

/** Serves `root` with StaticSite on a random port. */
async function serve(root: string): Promise<{ url: string; server: Server }> {
  const site = new StaticSite(root, () => undefined);
  const server = createServer((req, res) => void site.handle(req, res, new URL(req.url ?? '/', 'http://x').pathname));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('local/static', () => {
  let root: string;
  let site: { url: string; server: Server };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'airwave-static-'));
    mkdirSync(join(root, 'client', 'demo'), { recursive: true });
    mkdirSync(join(root, 'client', 'src'), { recursive: true });
    writeFileSync(join(root, 'client', 'demo', 'index.html'), '<!doctype html><script type="module" src="/airwave.js"></script>');
    writeFileSync(join(root, 'client', 'demo', 'style.css'), 'body { margin: 0 }');
    writeFileSync(join(root, 'client', 'src', 'greeting.ts'), 'export const greeting = (name: string): string => `hello ${name}`;');
    writeFileSync(join(root, 'client', 'src', 'index.ts'), "export { greeting } from './greeting.js';\nexport const VERSION: number = 1;");
    writeFileSync(join(root, 'secret.txt'), 'not for the browser');
    site = await serve(root);
  });
  after(() => {
    site.server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the demo page at /', async () => {
    const res = await fetch(`${site.url}/`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(await res.text()).to.include('/airwave.js');
  });

  it('serves the other demo files with their content type', async () => {
    const res = await fetch(`${site.url}/style.css`);
    expect(res.headers.get('content-type')).to.equal('text/css; charset=utf-8');
    expect(await res.text()).to.equal('body { margin: 0 }');
  });

  it('bundles the client source as one browser ES module at /airwave.js', async () => {
    const res = await fetch(`${site.url}/airwave.js`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('text/javascript; charset=utf-8');
    const code = await res.text();
    expect(code).to.include('hello ${name}');
    expect(code).to.match(/export\s*\{/);
    expect(code).to.not.match(/from\s*["']\.\/greeting/);
  });

  it('never serves a file outside client/demo', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2f%2e%2e%2fsecret.txt']) {
      const res = await fetch(`${site.url}${path}`);
      expect(res.status, path).to.equal(404);
      expect(await res.text()).to.not.include('not for the browser');
    }
  });

  it('answers 404 while the project has no client/', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'airwave-static-empty-'));
    const bare = await serve(empty);
    try {
      expect((await fetch(`${bare.url}/`)).status).to.equal(404);
      expect((await fetch(`${bare.url}/airwave.js`)).status).to.equal(404);
    } finally {
      bare.server.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
