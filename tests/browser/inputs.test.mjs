// Bad input is answered in place, next to what caused it, and the page keeps working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, state, ready, openPage, screenshot } from './harness.mjs';

const { server, browser } = useBrowser();


/// The page still runs: a step processes an event.
async function stillWorks(page) {
  const a = await state(page);
  await page.click('#step');
  const b = await state(page);
  assert.equal(b.events, a.events + 1, 'a step still runs');
}

test('a non-numeric seed is rejected next to the seed field', async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  await ready(page);
  await page.fill('#seed', '12abc');
  await page.press('#seed', 'Enter');
  await page.waitForSelector('#seed-error');
  assert.match(await page.locator('#seed-error').innerText(), /not a seed/);
  const s = await state(page);
  assert.equal(s.seed, '1', 'the run is unchanged');
  assert.equal(await page.locator('#seed').inputValue(), '12abc', 'what was typed stays');
  assert.match(s.errors.seed, /12abc/);
  await screenshot(page, 'inputs-seed');
  await stillWorks(page);
  await page.fill('#seed', '42');
  await page.press('#seed', 'Enter');
  await page.waitForFunction(() => window.kvlab.state().seed === '42');
  assert.equal(await page.locator('#seed-error').count(), 0, 'a good seed clears the error');
  assert.match(await page.evaluate(() => location.hash), /seed=42/);
  await page.click('#new-seed');
  await page.waitForFunction(() => window.kvlab.state().seed !== '42');
  assert.deepEqual(errors, []);
});

test('W > N is rejected next to the W field', async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  await ready(page);
  await page.click('#cfg-toggle');
  await page.fill('#cfg-w', '5');
  await page.click('#cfg-apply');
  const err = page.locator('.field-error[data-field="w"]');
  await err.waitFor();
  assert.match(await err.innerText(), /between 1 and N = 3/);
  assert.equal(await page.locator('#cfg-w').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('#cfg-w').inputValue(), '5', 'what was typed stays, to be corrected');
  assert.equal((await state(page)).errors.config_field, 'w');
  await screenshot(page, 'inputs-w-gt-n');
  await page.fill('#cfg-w', 'two');
  await page.click('#cfg-apply');
  assert.match(await err.innerText(), /not a whole number/);
  await stillWorks(page);
  // A valid form builds the new cluster.
  await page.fill('#cfg-w', '3');
  await page.fill('#cfg-nodes', '12');
  await page.click('#cfg-apply');
  await page.waitForFunction(() => window.kvlab.state().nodes.length === 12);
  assert.equal(await page.locator('#settings').count(), 0, 'the form closes');
  assert.match(await page.locator('#ring-caption').innerText(), /N=3 R=2 W=3/);
  assert.deepEqual(errors, []);
});

test('an empty key is rejected in the console', async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  await ready(page);
  await page.click('#tab-client');
  await page.fill('#console-key', '');
  await page.fill('#console-value', 'x');
  await page.click('#console-put');
  await page.waitForSelector('#console-error');
  assert.match(await page.locator('#console-error').innerText(), /key must not be empty/);
  await page.fill('#console-key', 'cart');
  await page.fill('#console-context', '[S0,');
  await page.click('#console-put');
  assert.match(await page.locator('#console-error').innerText(), /missing/);
  await screenshot(page, 'inputs-empty-key');
  await stillWorks(page);
  await page.fill('#console-context', '');
  await page.click('#console-put');
  await page.waitForFunction(() => window.kvlab.state().console[0]?.pending === false, null, { timeout: 15000 });
  const s = await state(page);
  assert.equal(s.console[0].ok, true, 'a good put succeeds');
  assert.equal(s.errors.console, null);
  assert.deepEqual(errors, []);
});

test('a mangled URL fragment shows an error, falls back to the defaults, and the page works', async () => {
  for (const bad of ['#seed=abc&nodes=%%%', '#zzz', '#sc=s9', '#nodes=0']) {
    const { page, errors } = await openPage(browser.context, server.url + bad);
    await ready(page);
    await page.waitForSelector('#fragment-error');
    const s = await state(page);
    assert.ok(s.errors.fragment, `${bad}: error kept`);
    assert.equal(s.nodes.length, 8, `${bad}: default cluster`);
    await stillWorks(page);
    await page.click('#play');
    await page.waitForTimeout(200);
    assert.ok((await state(page)).now > 0, 'it plays');
    if (bad === '#zzz') await screenshot(page, 'inputs-fragment');
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test('faults from the badge menu and the faults panel: crash, restart, wipe, partition, heal, loss', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#seed=5&nodes=6&wl=12`);
  await ready(page);
  await page.click('#ring .badge[data-node="2"]');
  await page.click('#menu-crash');
  let s = await state(page);
  assert.equal(s.nodes[2].up, false);
  await page.click('#ring .badge[data-node="2"]');
  await page.click('#menu-restart');
  assert.equal((await state(page)).nodes[2].up, true);
  await page.click('#partition');
  await page.click('#ring .badge[data-node="0"]');
  await page.click('#ring .badge[data-node="1"]');
  await page.click('#cut');
  s = await state(page);
  assert.deepEqual(s.nodes.map((n) => n.group !== 0), [true, true, false, false, false, false]);
  assert.ok((await page.locator('#ring .cut').count()) >= 1, 'the cut is drawn');
  await page.click('#play');
  await page.waitForTimeout(1500);
  await page.click('#play');
  await screenshot(page, 'faults-partition');
  await page.click('#heal');
  assert.ok((await state(page)).nodes.every((n) => n.group === 0));
  await page.locator('#loss').fill('20');
  assert.match(await page.locator('#faults').innerText(), /20%/);
  await page.click('#ring .badge[data-node="4"]');
  await page.click('#menu-wipe');
  assert.equal((await state(page)).nodes[4].keys_total, 0);
  assert.deepEqual(errors, []);
});
