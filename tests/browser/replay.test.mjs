// The counterexample player: a report the model checker wrote is imported through the page's
// file picker and played action by action to the state where its property breaks; the page
// judges every state itself (the report's own verdict is not shown, it is recomputed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { useBrowser, openPage, screenshot, ready } from './harness.mjs';

const { server, browser } = useBrowser();
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
// Written by `cargo xtask check lww --threads 1 --json web/examples`; check/tests/model.rs fails
// when it is not what the checker finds now.
const LWW = join(ROOT, 'web', 'examples', 'lww.json');

const chip = (page, name) => page.locator(`#replay-status [data-property="${name}"]`);

test('the last-write-wins counterexample, imported from its file, plays to the lost write', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#wl=0`);
  await ready(page);
  await page.click('#replay-open');
  await page.waitForSelector('#replay');
  await page.setInputFiles('#replay-file', LWW);
  await page.waitForSelector('#replay-steps');
  // The start: nothing broken, the path's length and property named.
  assert.match(await page.locator('#replay-pos').innerText(), /action 0 of 2/);
  assert.match(await page.locator('#replay-caption').innerText(), /breaks “no acknowledged write lost” in 2 actions/);
  assert.match(await chip(page, 'no acknowledged write lost').getAttribute('class'), /\bok\b/);
  await screenshot(page, 'replay-0-start');

  // Action 1: a blind write, acknowledged at once (W = 1). Still nothing lost.
  await page.click('#replay-next');
  const one = await page.locator('#replay-caption').innerText();
  assert.match(one, /Action 1 of 2: client \d writes c\d\.1 through S\d, blind/);
  assert.match(one, /acknowledged/);
  assert.match(await chip(page, 'no acknowledged write lost').getAttribute('class'), /\bok\b/);
  await screenshot(page, 'replay-1');

  // Action 2 (the → key): the second blind write wins by timestamp and the first is gone.
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#replay-broken');
  const two = await page.locator('#replay-caption').innerText();
  assert.match(two, /Action 2 of 2/);
  assert.match(two, /“no acknowledged write lost” breaks here: 1 acknowledged writes are held by no node/);
  assert.match(await chip(page, 'no acknowledged write lost').getAttribute('class'), /\bbad\b/);
  assert.match(await chip(page, 'no acknowledged write lost').getAttribute('class'), /\bhere\b/);
  assert.match(await page.locator('#replay-break').innerText(), /breaks at action 2/);
  assert.match(await page.locator('#replay-steps li.breaks').innerText(), /breaks here/);
  // The node that coordinated both holds only the later value: the first, acknowledged, is gone.
  const nodes = await page.locator('#replay-nodes').innerText();
  assert.match(nodes, /c\d\.2 \(S\d,\d+\) saw \[\]/);
  assert.doesNotMatch(nodes, /c\d\.1 /);
  await screenshot(page, 'replay-2-broken');

  // Back: the violation is undone with the action.
  await page.click('#replay-back');
  assert.match(await chip(page, 'no acknowledged write lost').getAttribute('class'), /\bok\b/);
  assert.equal(await page.locator('#replay-broken').count(), 0);

  // The other path of the same report: the bounded-liveness counterexample.
  const other = await page
    .locator('#replay-verdict option', { hasText: 'converges once faults stop' })
    .getAttribute('value');
  await page.selectOption('#replay-verdict', other);
  assert.match(await page.locator('#replay-pos').innerText(), /action 0 of \d+/);
  await page.click('#replay-last');
  assert.match(await page.locator('#replay-break').innerText(), /breaks at action \d+/);
  assert.deepEqual(errors, []);

  // Back to the cluster: its keys are its own again.
  await page.click('#replay-close');
  await page.waitForSelector('#ring-caption');
  assert.deepEqual(errors, []);
});

for (const [file, property, reason] of [
  ['non-replica-bug.json', 'converges once faults stop', /lost: missing on/],
  ['stand-in-n2-bug.json', 'no acknowledged write lost', /held by no node/],
]) {
  test(`the bundled ${file} opens from the URL and breaks only at its end`, async () => {
    const { page, errors } = await openPage(browser.context, `${server.url}#replay=${file}`);
    await page.waitForSelector('#replay-steps');
    const len = Number((await page.locator('#replay-pos').innerText()).match(/of (\d+)/)[1]);
    assert.ok(len >= 3, `path of ${len}`);
    const walk = [];
    for (let i = 0; i < len; i++) {
      assert.equal(await page.locator('#replay-status .check.bad').count(), 0, `broken at ${i}`);
      await page.keyboard.press('ArrowRight');
      walk.push(await page.locator('#replay-caption').innerText());
      if (i === Math.floor(len / 2)) await screenshot(page, `replay-${file}-middle`);
    }
    assert.match(await chip(page, property).getAttribute('class'), /\bbad\b/);
    assert.match(await page.locator('#replay-caption').innerText(), reason);
    await screenshot(page, `replay-${file}-broken`);
    if (process.env.KVLAB_PRINT_WALK) console.log(walk.join('\n---\n'));
    assert.deepEqual(errors, []);
  });
}

test('a file that is not a report is refused in place, and the page keeps working', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kvlab-replay-'));
  const bad = join(dir, 'notes.json');
  await writeFile(bad, '{"format": "something-else/9", "hello": 1}');
  const { page, errors } = await openPage(browser.context, `${server.url}#replay`);
  await page.waitForSelector('#replay');
  await screenshot(page, 'replay-intro');
  await page.setInputFiles('#replay-file', bad);
  await page.waitForSelector('#replay-error');
  assert.match(await page.locator('#replay-error').innerText(), /notes\.json: this is not a kvlab check report/);
  // A bundled example still opens.
  await page.click('button[data-example="lww.json"]');
  await page.waitForSelector('#replay-steps');
  assert.equal(await page.locator('#replay-error').count(), 0);
  assert.deepEqual(errors, []);
});

test('a hostile report is refused in place at once, and the page keeps working', async () => {
  // Valid to Config::validate, but anti-entropy rounds 1 ms apart: the model's warm-up never
  // found its quiet gap and the tab froze for good.
  const dir = await mkdtemp(join(tmpdir(), 'kvlab-replay-'));
  const report = JSON.parse(await readFile(LWW, 'utf8'));
  report.spec.config.anti_entropy_interval_ms = 1;
  const bad = join(dir, 'ae.json');
  await writeFile(bad, JSON.stringify(report));
  const { page, errors } = await openPage(browser.context, `${server.url}#replay`);
  await page.waitForSelector('#replay');
  const t0 = Date.now();
  await page.setInputFiles('#replay-file', bad);
  await page.waitForSelector('#replay-error');
  assert.ok(Date.now() - t0 < 5000, `refused after ${Date.now() - t0} ms`);
  assert.match(await page.locator('#replay-error').innerText(), /ae\.json: .*warm-up .* does not settle/);
  await page.click('button[data-example="lww.json"]');
  await page.waitForSelector('#replay-steps');
  assert.deepEqual(errors, []);
});

test('keys: Space after a click toggles once; closed, the player leaves the cluster its URL and keys', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#replay=stand-in-n2-bug.json`);
  await page.waitForSelector('#replay-steps');
  await page.click('#replay-next');
  await page.keyboard.press('ArrowRight');
  assert.match(await page.locator('#replay-pos').innerText(), /action 2 of/);
  // The focused button must not also take Space (a step, or a second toggle).
  await page.click('#replay-play');
  assert.equal(await page.locator('#replay-play').innerText(), 'Pause');
  await page.keyboard.press('Space');
  assert.equal(await page.locator('#replay-play').innerText(), 'Play');
  await page.keyboard.press('End');
  await page.keyboard.press('Home');
  assert.match(await page.locator('#replay-pos').innerText(), /action 0 of/);
  // A browser shortcut (with Ctrl or Alt) is the browser's, not a step.
  await page.keyboard.press('Alt+ArrowRight');
  await page.keyboard.press('Control+End');
  assert.match(await page.locator('#replay-pos').innerText(), /action 0 of/);
  // The cluster's keys stay off while the player is open.
  await page.keyboard.press('?');
  assert.equal(await page.locator('#help-overlay').count(), 0);
  await page.keyboard.press('Escape');
  await page.waitForSelector('#ring-caption');
  // A reload must show the cluster, not the player again.
  assert.doesNotMatch(new URL(page.url()).hash, /replay/);
  await page.locator('body').click({ position: { x: 5, y: 880 } });
  await page.keyboard.press('Space');
  assert.equal(await page.evaluate(() => window.kvlab.state().playing), true);
  await page.reload();
  await ready(page);
  assert.equal(await page.locator('#replay').count(), 0);
  assert.deepEqual(errors, []);
});
