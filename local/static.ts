/**
 * The demo page: every path that is no API serves `client/demo/` (`/` is its index.html), and
 * `/airwave.js` is the browser client (`client/src/index.ts`) bundled by esbuild as an ES module
 * on first request, then cached. Until `client/` exists these answer 404.
 */
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { build } from 'esbuild';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/** The browser bundle's URL path. */
export const CLIENT_BUNDLE_PATH = '/airwave.js';

const notFound = (res: ServerResponse) => res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');

/** Serves the demo page and the client bundle from a project root. */
export class StaticSite {
  private bundle?: Promise<string>;
  private readonly demoDir: string;
  private readonly clientEntry: string;

  constructor(
    projectRoot: string,
    private readonly log: (line: string) => void,
  ) {
    this.demoDir = join(projectRoot, 'client', 'demo');
    this.clientEntry = join(projectRoot, 'client', 'src', 'index.ts');
  }

  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (pathname === CLIENT_BUNDLE_PATH) return this.serveBundle(res);
    let relative: string;
    try {
      relative = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
    } catch {
      return void notFound(res);
    }
    const file = normalize(join(this.demoDir, relative));
    // Nothing outside client/demo, whatever `..` or encoded separators the path holds.
    if (!file.startsWith(this.demoDir + sep)) return void notFound(res);
    try {
      if (!(await stat(file)).isFile()) return void notFound(res);
      const content = await readFile(file);
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : content);
    } catch {
      notFound(res);
    }
  }

  private async serveBundle(res: ServerResponse): Promise<void> {
    try {
      await stat(this.clientEntry);
    } catch {
      return void notFound(res);
    }
    this.bundle ??= build({
      entryPoints: [this.clientEntry],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2020',
      write: false,
      sourcemap: 'inline',
    }).then((out) => out.outputFiles[0].text);
    try {
      const code = await this.bundle;
      res.writeHead(200, { 'content-type': CONTENT_TYPES['.js'], 'cache-control': 'no-cache' }).end(code);
    } catch (error) {
      this.bundle = undefined; // a failed build is retried on the next request (the source may be fixed by then)
      this.log(`client bundle failed: ${(error as Error).message}`);
      res.writeHead(500, { 'content-type': 'text/plain' }).end('The client bundle failed to build; see the local stack output.');
    }
  }
}
