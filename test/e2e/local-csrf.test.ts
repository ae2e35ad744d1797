/**
 * Issue 9 in a real browser: a web page of another site must not drive the local stack. Chromium
 * resolves `evil.example` to 127.0.0.1 here (as a DNS rebinding attacker makes it resolve), so
 * - a page of http://evil.example:<port> POSTs `text/plain` to the Invoke API (CSRF: a simple
 *   request, sent without preflight) and PublishFunction must not run;
 * - a page of http://evil.example:<stack port> is same-origin with the stack (the rebound
 *   name) and must not read `/_local/stack`;
 * while the demo page served by the stack itself keeps working (test/client/demo.browser.test.ts).
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { launchChromium, type PageServer, servePage } from '../helpers/browser.js';

const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

// Posts its hash (an Invoke API URL) the way a hostile page would, then reports it is done.
const CSRF_PAGE = `<!doctype html><meta charset="utf-8"><title>csrf</title><script>
fetch(decodeURIComponent(location.hash.slice(1)), {
  method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' },
  body: JSON.stringify({ channel: 'csrf', message: 'posted by another site' }),
}).then(() => { window.done = 'sent'; }, (e) => { window.done = 'failed: ' + e; });
</script>`;

describe('the local stack against foreign pages in Chromium', function () {
  this.timeout(90_000);
  let browser: Browser;
  let evil: PageServer;
  let stack: LocalStack;
  const logs: string[] = [];

  before(async () => {
    browser = await launchChromium(['--host-resolver-rules=MAP evil.example 127.0.0.1']);
    evil = await servePage(CSRF_PAGE);
    stack = await startLocalStack({ log: (l) => logs.push(l), functionLog: () => {}, environment: QUIET });
  });
  after(async () => {
    await browser?.close();
    await Promise.all([stack?.stop(), evil?.stop()]);
  });

  it('refuses a cross-site text/plain POST from another site’s page: PublishFunction does not run', async () => {
    const page = await browser.newPage();
    try {
      const invoke = `${stack.httpUrl}/2015-03-31/functions/PublishFunction/invocations`;
      await page.goto(`${evil.origin.replace('127.0.0.1', 'evil.example')}/#${encodeURIComponent(invoke)}`);
      await page.waitForFunction(() => (window as unknown as { done?: string }).done !== undefined, undefined, { timeout: 20_000 });
      expect(await page.evaluate(() => (window as unknown as { done: string }).done)).to.equal('sent');
    } finally {
      await page.close();
    }
    expect(stack.runtime.stats().PublishFunction?.invocations ?? 0, 'PublishFunction invocations').to.equal(0);
    expect(logs.some((l) => /^WARN refused POST .*foreign-origin.*"http:\/\/evil\.example:\d+"/.test(l))).to.equal(true);
  });

  it('still opens the demo page from a link on another site (a top-level navigation)', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${evil.origin.replace('127.0.0.1', 'evil.example')}/#about:blank`);
      const [answer] = await Promise.all([
        page.waitForNavigation(),
        page.evaluate((url) => {
          location.href = url;
        }, `${stack.httpUrl}/`),
      ]);
      expect(answer?.status()).to.equal(200);
      expect(answer?.request().headers()['sec-fetch-site'] ?? (await answer?.request().allHeaders())?.['sec-fetch-site']).to.equal(
        'cross-site',
      );
    } finally {
      await page.close();
    }
  });

  it('refuses a page of a rebound name (Host: evil.example) the stack’s /_local answers', async () => {
    const page = await browser.newPage();
    try {
      const answer = await page.goto(`http://evil.example:${stack.port}/_local/stack`);
      expect(answer?.status()).to.equal(403);
      const text = (await answer?.text()) ?? '';
      expect(text).to.include('loopback host');
      expect(text).not.to.include(stack.dynamodbEndpoint);
    } finally {
      await page.close();
    }
  });
});
