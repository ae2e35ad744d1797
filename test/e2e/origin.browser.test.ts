/**
 * Issue 4 in a real browser: Chromium sends the page's Origin on the WebSocket upgrade, which is
 * what stops cross-site WebSocket hijacking. A page from an allowed origin connects; the same
 * page from another origin (another port on 127.0.0.1) is refused; with AuthMode=jwt a page
 * with a valid token (as a subprotocol, as browsers must) connects and one without is refused.
 */
import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { Browser } from 'playwright-core';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { launchChromium, type PageServer, servePage } from '../helpers/browser.js';

const SECRET = 'browser-development-secret-0123456789ab';
const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

// The page connects to the URL in its hash and reports "open:<frame>" or "refused:<code>".
const PAGE = `<!doctype html><meta charset="utf-8"><title>probe</title><script>
const [url, token] = decodeURIComponent(location.hash.slice(1)).split('|');
const ws = token ? new WebSocket(url, ['airwave', token]) : new WebSocket(url);
ws.onopen = () => ws.send(JSON.stringify({ action: 'ping' }));
ws.onmessage = (e) => { window.result = 'open:' + e.data; ws.close(); };
ws.onclose = (e) => { window.result ??= 'refused:' + e.code; };
</script>`;

describe('origin and token checks in Chromium', function () {
  this.timeout(90_000);
  let browser: Browser;
  let allowed: PageServer;
  let foreign: PageServer;
  let open: LocalStack;
  let jwt: LocalStack;

  before(async () => {
    browser = await launchChromium();
    allowed = await servePage(PAGE);
    foreign = await servePage(PAGE);
    const common = { log: () => {}, functionLog: () => {} };
    open = await startLocalStack({
      ...common,
      parameterOverrides: { AuthMode: 'none', AllowedOrigins: allowed.origin },
      environment: QUIET,
    });
    jwt = await startLocalStack({
      ...common,
      parameterOverrides: { AuthMode: 'jwt', AllowedOrigins: allowed.origin },
      environment: { ...QUIET, JWT_DEV_SECRET: SECRET, AIRWAVE_LOCAL: '1' },
    });
  });
  after(async () => {
    await browser?.close();
    await Promise.all([open?.stop(), jwt?.stop(), allowed?.stop(), foreign?.stop()]);
  });

  async function probe(pageOrigin: string, wsUrl: string, token = ''): Promise<string> {
    const page = await browser.newPage();
    try {
      await page.goto(`${pageOrigin}/#${encodeURIComponent(`${wsUrl}|${token}`)}`);
      await page.waitForFunction(() => (window as unknown as { result?: string }).result !== undefined, undefined, { timeout: 20_000 });
      return await page.evaluate(() => (window as unknown as { result: string }).result);
    } finally {
      await page.close();
    }
  }

  const validToken = () =>
    new SignJWT({ sub: 'browser-user', channels: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));

  it('connects a page served from the allowed origin', async () => {
    expect(await probe(allowed.origin, open.url)).to.equal('open:{"type":"pong"}');
  });

  it('refuses the same page served from another origin', async () => {
    expect(await probe(foreign.origin, open.url)).to.match(/^refused:/);
  });

  it('with AuthMode=jwt, connects a page with a valid token carried as a subprotocol', async () => {
    expect(await probe(allowed.origin, jwt.url, await validToken())).to.equal('open:{"type":"pong"}');
  });

  it('with AuthMode=jwt, refuses a page without a token, and a foreign page even with one', async () => {
    expect(await probe(allowed.origin, jwt.url)).to.match(/^refused:/);
    expect(await probe(foreign.origin, jwt.url, await validToken())).to.match(/^refused:/);
  });
});
