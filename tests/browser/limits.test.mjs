// Every setting the form accepts runs: the largest accepted cluster plays at the fastest speed with
// the page answering, and a setting past the page's limits (the one that used to run the page out
// of memory) is refused next to its field with the reason, leaving the page working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openPage, ready, screenshot, state } from './harness.mjs';

const { server, browser } = useBrowser();

async function frames(page, ms) {
  return page.evaluate((ms) => new Promise((done) => {
    const stamps = [];
    const start = performance.now();
    function frame(ts) {
      stamps.push(ts);
      if (ts - start < ms) requestAnimationFrame(frame);
      else done(stamps);
    }
    requestAnimationFrame(frame);
  }), ms);
}

test('the largest accepted settings play at 5× and the page keeps answering', async (t) => {
  const big = '#seed=1&nodes=64&vnodes=32&n=5&r=5&w=5&lmin=5&lmax=10000&loss=0&wl=1000';
  const { page, errors } = await openPage(browser.context, `${server.url}${big}`);
  await ready(page);
  assert.equal((await state(page)).nodes.length, 64, 'the cluster was built');
  await page.selectOption('#speed', '8');
  await page.click('#play');
  await page.evaluate(() => window.kvlab.perf());
  const stamps = await frames(page, 20000);
  const phases = await page.evaluate(() => window.kvlab.perf());
  const gaps = stamps.slice(1).map((s, i) => s - stamps[i]).sort((a, b) => a - b);
  const p95 = gaps[Math.floor(0.95 * gaps.length)];
  const max = gaps.at(-1);
  const mem = await page.evaluate(() => window.kvlab.memory());
  const s = await state(page);
  const line = `largest settings, 20 s at 5×: ${gaps.length} frames, p95 ${p95.toFixed(1)} ms, max gap ${max.toFixed(0)} ms, `
    + `sim time ${(s.metrics.now / 1000).toFixed(1)} s, memory ${(mem / 2 ** 20).toFixed(0)} MB; `
    + `slowest phases (advance/draw/check/read-out) ${phases.map((x) => x.toFixed(1)).join('/')} ms`;
  console.log(`# ${line}`);
  t.diagnostic(line);
  await screenshot(page, 'limits-largest');
  assert.ok(max < 1000, `a frame took ${max.toFixed(0)} ms`);
  assert.ok(s.metrics.events > 0 && s.invariants.anomalies === 0, 'it ran, and the oracle saw nothing wrong');
  await page.click('#play');
  await page.click('#step');
  assert.ok(await state(page), 'window.kvlab still answers after stepping');
  assert.deepEqual(errors, []);
});

test('applying the largest accepted settings through the form takes under a second', async (t) => {
  const { page, errors } = await openPage(browser.context, server.url);
  await ready(page);
  await page.click('#cfg-toggle');
  for (const [f, v] of [['nodes', '64'], ['vnodes', '32'], ['n', '5'], ['r', '5'], ['w', '5'], ['workload', '1000']]) {
    await page.fill(`#cfg-${f}`, v);
  }
  const took = await page.evaluate(() => new Promise((done) => {
    const t0 = performance.now();
    document.querySelector('#cfg-apply').click();
    const wait = () => (window.kvlab.state()?.nodes.length === 64 ? done(performance.now() - t0) : requestAnimationFrame(wait));
    wait();
  }));
  console.log(`# applying 64 nodes × 32 vnodes, N=R=W=5, 1000 clients: ${took.toFixed(0)} ms`);
  t.diagnostic(`apply ${took.toFixed(0)} ms`);
  assert.ok(took < 1000, `the page froze ${took.toFixed(0)} ms applying`);
  assert.deepEqual(errors, []);
});

test('N past the page limit is refused next to the N field, and the page keeps working', async () => {
  const killer = '#seed=1&nodes=32&vnodes=8&n=32&r=32&w=32&lmin=5&lmax=30&loss=0&wl=2000';
  const { page, errors } = await openPage(browser.context, `${server.url}${killer}`);
  await ready(page);
  const s = await state(page);
  assert.ok(s, 'the page has state');
  const shown = `${s.errors.fragment ?? ''} ${s.errors.config ?? ''}`;
  assert.match(shown, /between 1 and 5/, `the reason is shown: ${shown}`);
  await page.click('#cfg-toggle');
  await page.fill('#cfg-n', '40');
  await page.click('#cfg-apply');
  const err = page.locator('.field-error[data-field="n"]');
  await err.waitFor();
  assert.match(await err.innerText(), /page keeps up to 5/);
  await screenshot(page, 'limits-n-refused');
  await page.click('#play');
  await page.waitForTimeout(500);
  await page.click('#play');
  assert.ok((await state(page)).metrics.events > 0, 'the previous cluster still runs');
  assert.deepEqual(errors, []);
});
