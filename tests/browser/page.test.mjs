// The page as a new user meets it: play and pause, step and step back, keyboard and help.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, state, ready, openPage, screenshot } from './harness.mjs';

const { server, browser } = useBrowser();


test('the page loads with the ring, badges, legend and status strip and no console error', async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  await ready(page);
  assert.equal(await page.locator('#ring .badge').count(), 8, 'eight node badges');
  assert.ok((await page.locator('#ring .tick').count()) >= 8 * 8 - 2, 'vnode ticks');
  assert.match(await page.locator('#legend').innerText(), /put-ack/);
  assert.match(await page.locator('#status').innerText(), /lost writes 0/);
  await screenshot(page, 'page-load');
  assert.deepEqual(errors, []);
});

test('play moves the message dots and pause freezes them where they are', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#seed=3&nodes=8&wl=24`);
  await ready(page);
  await page.click('#play');
  await page.waitForFunction(() => window.kvlab.dots().length > 3, null, { timeout: 10000 });
  const a = await page.evaluate(() => window.kvlab.dots());
  await page.waitForTimeout(250);
  const b = await page.evaluate(() => window.kvlab.dots());
  assert.notDeepEqual(a, b, 'dots move while playing');
  const t1 = (await state(page)).display_now;
  await page.click('#play'); // pause
  await page.waitForTimeout(100);
  const c = await page.evaluate(() => window.kvlab.dots());
  const s1 = await state(page);
  assert.equal(s1.playing, false);
  assert.ok(s1.display_now > t1, 'time moved while playing');
  await page.waitForTimeout(800);
  const d = await page.evaluate(() => window.kvlab.dots());
  const s2 = await state(page);
  assert.ok(c.length > 0, 'messages are in flight at the pause');
  assert.deepEqual(d, c, 'paused dots do not move');
  assert.equal(s2.display_now, s1.display_now);
  await screenshot(page, 'page-paused');
  assert.deepEqual(errors, []);
});

test('step then step back returns the identical state, and stepping forward again repeats it', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#seed=9&nodes=6&wl=6`);
  await ready(page);
  await page.locator('body').click({ position: { x: 5, y: 880 } });
  for (let i = 0; i < 40; i++) await page.keyboard.press('ArrowRight');
  const before = await state(page);
  assert.ok(before.events >= 40, `40 events ran (${before.events})`);
  await page.keyboard.press('ArrowRight');
  const stepped = await state(page);
  assert.equal(stepped.events, before.events + 1);
  await page.keyboard.press('ArrowLeft');
  assert.deepEqual(await state(page), before, 'back after one event');
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await state(page), stepped, 'forward again: the same event');

  // A whole protocol round, by button, and back.
  const r0 = await state(page);
  await page.click('#round');
  const r1 = await state(page);
  assert.ok(r1.now > r0.now && r1.events > r0.events, 'a round ran');
  await page.click('#back');
  assert.deepEqual(await state(page), r0, 'back after a round');

  // Back past a snapshot: many events, then all the way to an earlier position.
  await page.click('#round');
  await page.click('#round');
  await page.click('#back');
  await page.click('#back');
  assert.deepEqual(await state(page), r0, 'two rounds back');
  await screenshot(page, 'page-step-back');
  assert.deepEqual(errors, []);
});

test('keyboard: space plays and pauses, ? shows the help overlay, Esc closes it', async () => {
  const { page, errors } = await openPage(browser.context, server.url);
  await ready(page);
  await page.locator('body').click({ position: { x: 5, y: 880 } });
  await page.keyboard.press('Space');
  assert.equal((await state(page)).playing, true);
  await page.keyboard.press('Space');
  assert.equal((await state(page)).playing, false);
  await page.keyboard.press('Shift+ArrowRight');
  const s = await state(page);
  assert.equal(s.now % 100, 0, 'a round ends on a gossip-period boundary');
  assert.ok(s.now >= 100);
  await page.keyboard.press('?');
  await page.waitForSelector('#help-overlay');
  assert.match(await page.locator('#help-overlay').innerText(), /step back/);
  await screenshot(page, 'page-help');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#help-overlay').count(), 0);
  assert.deepEqual(errors, []);
});

test('selecting a node highlights its ranges and opens its inspector; hovering a key lights its preference list', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#sc=s2&step=4`);
  await ready(page);
  await page.click('#ring .badge[data-node="1"]');
  await page.waitForSelector('#badge-menu');
  assert.equal(await page.locator('#inspected').innerText(), 'Sy');
  assert.ok((await page.locator('#ring .range').count()) > 0, 'ranges drawn');
  await page.hover('#ring .key[data-key="cart"]');
  assert.equal(await page.locator('#ring .badge.in-pref').count(), 3, 'N=3 nodes in the preference list');
  await screenshot(page, 'page-select-hover');
  assert.deepEqual(errors, []);
});

test('the timeline jumps the simulation to a clicked time', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#seed=4&nodes=5`);
  await ready(page);
  for (let i = 0; i < 5; i++) await page.click('#round');
  const s0 = await state(page);
  assert.equal(s0.now, 500);
  const box = await page.locator('#timeline-canvas').boundingBox();
  await page.mouse.click(box.x + box.width * 0.5, box.y + 4);
  const s1 = await state(page);
  assert.ok(s1.now < 500 && s1.now > 200, `moved back into the window (${s1.now})`);
  await screenshot(page, 'page-timeline-jump');
  assert.deepEqual(errors, []);
});

test('a link reproduces the run, and Export downloads the trace as JSON', async () => {
  const link = `${server.url}#seed=42&nodes=5&vnodes=4&n=3&r=2&w=2&lmin=5&lmax=30&loss=5&wl=3`;
  const hashes = [];
  for (let i = 0; i < 2; i++) {
    const { page, errors } = await openPage(browser.context, link);
    await ready(page);
    for (let k = 0; k < 4; k++) await page.click('#round');
    const s = await state(page);
    assert.equal(s.fragment, link.slice(link.indexOf('#')), 'the page keeps the link');
    hashes.push(s.trace_hash);
    if (i === 1) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
      assert.match(download.suggestedFilename(), /^kvlab-trace-seed42\.json$/);
      const path = await download.path();
      const json = JSON.parse(await (await import('node:fs/promises')).readFile(path, 'utf8'));
      assert.equal(json.trace_hash, s.trace_hash);
      assert.equal(json.config.seed, 42);
      assert.ok(json.events.length > 20 && json.events.some((e) => 'Send' in e.kind), 'sends in the trace');
      await screenshot(page, 'page-link');
    }
    assert.deepEqual(errors, []);
    await page.close();
  }
  assert.equal(hashes[0], hashes[1], 'same link, same run');
});
