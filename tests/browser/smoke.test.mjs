import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openPage, screenshot } from './harness.mjs';

const { server, browser } = useBrowser();

test('the page renders the app root and the ring with no console error', async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  await page.waitForSelector('#kvlab-app', { timeout: 15000 });
  const ring = await page.waitForSelector('svg#ring', { timeout: 15000 });
  assert.ok(await ring.isVisible(), 'ring SVG is visible');
  await screenshot(page, 'smoke');
  assert.deepEqual(errors, []);
});
