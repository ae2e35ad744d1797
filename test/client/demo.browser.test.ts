/**
 * The demo page in a real browser (Debian's chromium through playwright-core) against the local
 * stack, which serves client/demo/ and the client bundle at /airwave.js: two pages join the same
 * channel, one sends, the other shows the message. A screenshot is saved to
 * test-results/demo.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { launchChromium } from '../helpers/browser.js';

const TEMPLATE = fileURLToPath(new URL('../../template.yaml', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
/** Generous: the stack's functions start cold, and the machine is shared. */
const STEP_TIMEOUT_MS = 30_000;

describe('demo page, in chromium on the local stack', function () {
  this.timeout(4 * STEP_TIMEOUT_MS);
  let stack: LocalStack;
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async () => {
    stack = await startLocalStack({
      port: 0,
      templatePath: TEMPLATE,
      environment: { POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' },
      log: () => undefined,
      functionLog: () => undefined,
    });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function openDemo(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${stack.httpUrl}/`);
    return page;
  }

  async function connectAndJoin(page: Page, channel: string): Promise<void> {
    await page.click('#connect');
    await page.waitForSelector('#state[data-state="open"]');
    await page.fill('#channel', channel);
    await page.click('#join');
    // The join is acknowledged (the subscription exists) before anyone sends.
    await page.waitForSelector(`#log li:has-text("joined ${channel}")`);
  }

  it('shows a message sent from one page on the other page in the same channel', async () => {
    const [reader, writer] = [await openDemo(), await openDemo()];
    expect(await reader.inputValue('#url'), 'the URL is prefilled from the location').to.equal(stack.url);

    await connectAndJoin(reader, 'lobby');
    await connectAndJoin(writer, 'lobby');
    await writer.fill('#message', '{"text": "hello from the other page"}');
    await writer.click('#send');

    const received = reader.locator('ol[data-channel="lobby"] li', { hasText: 'hello from the other page' });
    await received.waitFor();
    expect(await received.locator('.meta').textContent(), 'its seq').to.equal('#1');
    expect(await received.textContent()).to.equal('#1{"text":"hello from the other page"}');
    // The sender sees its own message, numbered once its receipt arrives.
    await writer.locator('ol[data-channel="lobby"] li.own', { hasText: '#1 you' }).waitFor();
    expect(await reader.locator('ol[data-channel="lobby"] li').count(), 'delivered once').to.equal(1);

    mkdirSync(RESULTS, { recursive: true });
    await reader.screenshot({ path: `${RESULTS}demo.png`, fullPage: true });
    expect(pageErrors).to.deep.equal([]);
  });

  it('shows the live member list of a presence channel on both pages, and a member leaving', async () => {
    const [ann, bob] = [await openDemo(), await openDemo()];
    await connectAndJoin(ann, 'presence:lobby');
    await connectAndJoin(bob, 'presence:lobby');
    const members = (page: Page) => page.locator('ul.members[data-channel="presence:lobby"] li');
    // AuthMode=none: each page is its own member, named by a hash of its connection.
    await members(ann).nth(1).waitFor();
    await members(bob).nth(1).waitFor();
    expect(await members(ann).count()).to.equal(2);
    expect(await members(ann).filter({ hasText: '(you)' }).count(), 'one of them is this page').to.equal(1);
    await bob.click('#disconnect');
    await ann.waitForSelector('#log li:has-text("left presence:lobby")');
    expect(await members(ann).count()).to.equal(1);
    mkdirSync(RESULTS, { recursive: true });
    await ann.screenshot({ path: `${RESULTS}demo-presence.png`, fullPage: true });
    expect(pageErrors).to.deep.equal([]);
  });
});
