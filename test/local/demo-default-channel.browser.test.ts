/**
 * The demo page (client/demo/, served by the local stack) shows the messages of the default
 * channel: every connection is subscribed to it at $connect (DefaultChannel), so a backend
 * publish to it reaches the page, which must show it rather than drop a channel it never joined.
 * Debian's chromium through playwright-core (test/helpers/browser.ts).
 */
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startTestStack, type TestStack } from './support.js';

const STEP_TIMEOUT_MS = 30_000;

describe('demo page: the default channel', function () {
  this.timeout(4 * STEP_TIMEOUT_MS);
  let stack: TestStack;
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async () => {
    stack = await startTestStack();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function openDemo(query = ''): Promise<Page> {
    const page = await browser.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${stack.httpUrl}/${query}`);
    await page.click('#connect');
    await page.waitForSelector('#state[data-state="open"]');
    return page;
  }

  /** A backend publish (PublishFunction, as `aws lambda invoke` would run it). */
  async function publish(channel: string, message: unknown): Promise<void> {
    const result = await stack.runtime.invoke('PublishFunction', { channel, message });
    expect(result.ok, result.payload).to.equal(true);
  }

  it('shows a message published to the default channel', async () => {
    const page = await openDemo();
    await page.waitForSelector('#log li:has-text("joined default")');
    await publish('default', { text: 'to everyone' });
    const received = page.locator('ol[data-channel="default"] li', { hasText: 'to everyone' });
    await received.waitFor();
    expect(await received.textContent()).to.equal('#1{"text":"to everyone"}');
    expect(pageErrors).to.deep.equal([]);
  });

  it('shows another page sending to the default channel', async () => {
    const [reader, writer] = [await openDemo(), await openDemo()];
    await reader.waitForSelector('#log li:has-text("joined default")');
    await writer.fill('#channel', 'default');
    await writer.fill('#message', 'hello default');
    await writer.click('#send');
    await reader.locator('ol[data-channel="default"] li', { hasText: 'hello default' }).waitFor();
    expect(pageErrors).to.deep.equal([]);
  });

  it('?default= names another default channel, and ?default= (empty) none', async () => {
    const page = await openDemo('?default=');
    // Give a join the time it would take, then check none went out.
    await page.waitForTimeout(1_000);
    expect(await page.locator('section[data-channel="default"]').count()).to.equal(0);
    expect(await page.locator('#log li', { hasText: 'joined' }).count()).to.equal(0);
    const other = await openDemo('?default=lobby');
    await other.waitForSelector('#log li:has-text("joined lobby")');
  });
});
