// The page teaches what the store does: versions shown as the store compares them, forwarding
// shown, keys that cannot surprise, and 64 nodes that stay legible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, state, openPage, screenshot, ready } from './harness.mjs';

const { server, browser } = useBrowser();

/// Sends a request from the console and waits for its reply; returns the reply.
async function send(page, op, { via, key, value = '', context = '' }) {
  const before = (await state(page)).console.length;
  await page.selectOption('#console-via', String(via));
  await page.fill('#console-key', key);
  if (op === 'put') {
    await page.fill('#console-value', value);
    await page.fill('#console-context', context);
  }
  await page.click(op === 'put' ? '#console-put' : '#console-get');
  await page.waitForFunction(
    (n) => {
      const c = window.kvlab.state().console;
      return c.length > n && c[0].pending === false;
    },
    before,
    { timeout: 20000 },
  );
  return (await state(page)).console[0];
}

const contextHolds = (ctx, dot) => {
  // dot "(S0,2)" is in context "[S0,3][S1,1]" when the context's counter for S0 is at least 2.
  const [, actor, n] = dot.match(/^\((.+),(\d+)\)$/);
  const m = ctx.match(new RegExp(`\\[${actor.replace(/[#]/g, '\\#')},(\\d+)\\]`));
  return m !== null && Number(m[1]) >= Number(n);
};

test('two blind puts through one coordinator: two siblings, and neither one\'s context holds the other\'s dot', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#wl=0`);
  await ready(page);
  await page.click('#tab-client');
  const a = await send(page, 'put', { via: 0, key: 'fruit', value: 'apple' });
  const b = await send(page, 'put', { via: 0, key: 'fruit', value: 'banana' });
  assert.ok(a.ok && b.ok, JSON.stringify([a, b]));
  // The second put's reply shows what its context covers: the new version and the blind sibling
  // it did not supersede (so passing that context back supersedes only what was shown).
  assert.deepEqual(b.siblings.map((s) => s.value), ['banana', 'apple']);
  assert.ok(b.context.length > 2, b.context);
  const g = await send(page, 'get', { via: 0, key: 'fruit' });
  assert.equal(g.siblings.length, 2, JSON.stringify(g));
  const [x, y] = g.siblings;
  // The clocks alone would say one descends from the other; what is shown must not.
  assert.ok(!contextHolds(x.context, y.dot), `${x.context} holds ${y.dot}`);
  assert.ok(!contextHolds(y.context, x.dot), `${y.context} holds ${x.dot}`);
  const shown = await page.locator('#replies li').first().innerText();
  for (const s of g.siblings) {
    assert.ok(shown.includes(s.dot), `the reply shows the dot ${s.dot}: ${shown}`);
  }
  const why = await page.locator('#why-concurrent').innerText();
  assert.match(why, /no version's context holds another's dot/);
  assert.ok(why.includes(x.dot) && why.includes(y.dot), why);
  await screenshot(page, 'teach-blind-siblings');
  assert.deepEqual(errors, []);
});

test('a request sent to a node off the key\'s preference list shows the node asked and the forward', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#wl=0&nodes=8`);
  await ready(page);
  await page.click('#tab-client');
  let forwarded = null;
  for (let via = 0; via < 8 && !forwarded; via++) {
    const r = await send(page, 'put', { via, key: 'route-me', value: `v${via}` });
    if (r.forwards.length > 0) forwarded = { r, via };
  }
  assert.ok(forwarded, 'with N = 3 of 8 nodes some coordinator choice is off the list');
  const { r, via } = forwarded;
  const names = (await state(page)).nodes.map((n) => n.name);
  assert.equal(r.asked, names[via]);
  assert.notEqual(r.coordinator, r.asked);
  assert.deepEqual(r.forwards, [`${names[via]} → ${r.coordinator}`]);
  const head = await page.locator('#replies li').first().innerText();
  assert.ok(head.includes(`asked ${names[via]} → forwarded ${names[via]} → ${r.coordinator}`), head);
  assert.match(head, /is not on the preference list of “route-me”/);
  assert.match(head, /replicas: .+ \(coordinator\)/);
  await screenshot(page, 'teach-forward');
  assert.deepEqual(errors, []);
});

test('Space after clicking Put plays or pauses and sends nothing', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#wl=0`);
  await ready(page);
  await page.click('#tab-client');
  await send(page, 'put', { via: 1, key: 'once', value: 'v' });
  const before = await state(page);
  // The mouse clicked Put last; the next key press is Space.
  await page.keyboard.press('Space');
  await page.waitForTimeout(300);
  let s = await state(page);
  assert.equal(s.console.length, before.console.length, 'no second put was sent');
  assert.equal(s.playing, !before.playing, 'Space toggled play');
  await page.keyboard.press('Space');
  s = await state(page);
  assert.equal(s.playing, before.playing);
  // In a text field Space is a character.
  await page.click('#console-value');
  await page.keyboard.press('Space');
  s = await state(page);
  assert.equal(s.playing, before.playing, 'typing a space does not play');
  assert.deepEqual(errors, []);
});

test('64 nodes: no two badges overlap and every timeline lane is labelled', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#nodes=64&vnodes=8`);
  await ready(page);
  await page.waitForFunction(() => window.kvlab.state().nodes.length === 64);
  const discs = await page.locator('g.badge circle.disc').evaluateAll((els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2, r: r.width / 2 };
    }),
  );
  assert.equal(discs.length, 64);
  for (let i = 0; i < discs.length; i++) {
    for (let j = i + 1; j < discs.length; j++) {
      const d = Math.hypot(discs[i].x - discs[j].x, discs[i].y - discs[j].y);
      assert.ok(d >= discs[i].r + discs[j].r - 0.5, `badges ${i} and ${j} overlap (${d.toFixed(1)} px)`);
    }
  }
  const h = await page.locator('#timeline-canvas').evaluate((c) => c.clientHeight);
  assert.ok(h >= 64 * 10, `each of 64 lanes gets 10 px (canvas ${h} px)`);
  await screenshot(page, 'teach-64-nodes');
  assert.deepEqual(errors, []);
});
