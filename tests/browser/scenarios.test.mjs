// Each guided scenario runs to its end through the page's Next button, and the page shows what
// each caption promises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, state, openPage, screenshot } from './harness.mjs';

const { server, browser } = useBrowser();


async function open(id) {
  const opened = await openPage(browser.context, `${server.url}#sc=${id}&step=0`);
  await settled(opened.page);
  return opened;
}

async function settled(page) {
  await page.waitForFunction(() => window.kvlab?.state()?.scenario?.settled, null, { timeout: 20000 });
  return state(page);
}

/// Clicks Next (animated, not skipped) and waits for the step to finish.
async function next(page) {
  const before = (await state(page)).scenario.step;
  await page.click('#sc-next');
  const s = await settled(page);
  assert.equal(s.scenario.step, before + 1);
  assert.equal(await page.locator('#caption').innerText(), s.scenario.caption, 'the caption shown is the step\'s');
  assert.equal(s.panel, s.scenario.panel, 'the step opens its panel');
  if (s.scenario.focus !== null) assert.equal(s.selected, s.scenario.focus, 'and selects its node');
  // A tour teaches a store that keeps its writes: the oracle, judging by what the tour's clients
  // saw, finds nothing wrong at any step.
  assert.equal(s.invariants.lost, 0, `no lost write at step ${s.scenario.step + 1}`);
  assert.equal(s.invariants.anomalies, 0, `no anomaly at step ${s.scenario.step + 1}`);
  assert.match(await page.locator('#lost').innerText(), /lost writes 0/);
  return s;
}

const key = (node, k) => node.store.find((r) => r.key === k);
const clocks = (row) => row.siblings.map((s) => s.clock).sort();

test('§1: entries show stored and raw size and the compression ratio, go cold past the memory budget, a read brings one back', async () => {
  const { page, errors } = await open('s1');
  let s = await next(page);
  const s0 = s.nodes[0];
  assert.equal(s0.keys_total, 6);
  assert.ok(s0.store.every((r) => r.stored > 0 && r.raw > 0), 'stored and raw sizes are known');
  // The inspector shows each entry's stored and raw size and the node's compression ratio.
  assert.equal(await page.locator('#storage-table tbody tr').count(), 6);
  assert.match(await page.locator('#storage-table').innerText(), /\d+ B \/ \d+ B/);
  assert.match(await page.locator('#panel-storage').innerText(), /stored \d+ % of raw/);
  s = await next(page);
  assert.equal(key(s.nodes[0], 'user:0').tier, 'cold', 'user:0 went cold');
  assert.ok(s.nodes[0].store.some((r) => r.tier === 'hot'), 'recent entries stay hot');
  await screenshot(page, 'scenario-s1-cold');
  s = await next(page);
  assert.equal(key(s.nodes[0], 'user:0').tier, 'hot', 'the read promoted user:0');
  assert.equal(await page.locator('#storage-table tr[data-key="user:0"] .tier').innerText(), 'hot');
  await screenshot(page, 'scenario-s1-end');
  assert.deepEqual(errors, []);
});

test('§2: D3 and D4 become siblings [Sx,2][Sy,1] and [Sx,2][Sz,1]; D5 [Sx,3][Sy,1][Sz,1] supersedes both', async () => {
  const { page, errors } = await open('s2');
  assert.deepEqual(clocks(key((await state(page)).nodes[0], 'cart')), ['[Sx,1]']);
  let s = await next(page);
  assert.deepEqual(clocks(key(s.nodes[0], 'cart')), ['[Sx,2]']);
  // The caption: "D2 is dot (Sx,2) having seen [Sx,1]": the client panel shows it.
  assert.match(await page.locator('#replies li').first().innerText(), /D2\s*\(Sx,2\)\s*saw\s*\[Sx,1\]/);
  s = await next(page);
  for (const n of s.nodes) {
    assert.deepEqual(clocks(key(n, 'cart')), ['[Sx,2][Sy,1]', '[Sx,2][Sz,1]'], `${n.name} keeps both siblings`);
  }
  const table = await page.locator('#storage-table').innerText();
  // The caption: "D3 is dot (Sy,1), D4 is dot (Sz,1)", both having seen [Sx,2].
  assert.match(table, /D3\s*\(Sy,1\)\s*saw\s*\[Sx,2\]/);
  assert.match(table, /D4\s*\(Sz,1\)\s*saw\s*\[Sx,2\]/);
  await screenshot(page, 'scenario-s2-siblings');
  s = await next(page);
  const read = s.console.find((r) => r.op === 'get');
  assert.ok(read && read.ok, 'the read was answered');
  assert.deepEqual(read.siblings.map((x) => x.clock).sort(), ['[Sx,2][Sy,1]', '[Sx,2][Sz,1]']);
  assert.equal(read.context, '[Sx,2][Sy,1][Sz,1]');
  assert.match(await page.locator('#resolve').innerText(), /2 siblings/);
  const why = await page.locator('#why-concurrent').innerText();
  assert.ok(why.includes('(Sy,1) saw [Sx,2]') && why.includes('(Sz,1) saw [Sx,2]'), why);
  await screenshot(page, 'scenario-s2-read');
  s = await next(page);
  for (const n of s.nodes) {
    const row = key(n, 'cart');
    assert.deepEqual(clocks(row), ['[Sx,3][Sy,1][Sz,1]'], `${n.name} holds only D5`);
    assert.equal(row.siblings[0].value, 'D5');
  }
  assert.match(await page.locator('#storage-table').innerText(), /D5\s*\(Sx,3\)\s*saw\s*\[Sx,2\]\[Sy,1\]\[Sz,1\]/);
  await screenshot(page, 'scenario-s2-end');
  assert.deepEqual(errors, []);
});

test('§2a in the console: read the siblings, write a merged value back with the context, read one version', async () => {
  const { page, errors } = await openPage(browser.context, `${server.url}#sc=s2&step=3`);
  await settled(page);
  await page.click('#tab-client');
  await page.waitForSelector('#resolve');
  await page.fill('#merged-value', 'D3+D4');
  await page.click('#write-merged');
  await page.waitForFunction(() => window.kvlab.state().console[0]?.pending === false, null, { timeout: 15000 });
  let s = await state(page);
  assert.equal(s.console[0].op, 'put');
  assert.equal(s.console[0].ok, true);
  assert.equal(s.console[0].siblings[0].clock, '[Sx,3][Sy,1][Sz,1]');
  await page.selectOption('#console-via', '2');
  await page.fill('#console-key', 'cart');
  await page.click('#console-get');
  await page.waitForFunction(() => {
    const c = window.kvlab.state().console[0];
    return c.op === 'get' && !c.pending;
  }, null, { timeout: 15000 });
  s = await state(page);
  assert.deepEqual(s.console[0].siblings, [{ value: 'D3+D4', clock: '[Sx,3][Sy,1][Sz,1]', dot: '(Sx,3)', context: '[Sx,2][Sy,1][Sz,1]' }]);
  assert.equal(s.console[0].coordinator, 'Sz');
  assert.equal(await page.locator('#resolve').count(), 0, 'nothing left to resolve');
  await screenshot(page, 'console-resolved');
  assert.deepEqual(errors, []);
});

test('§3: gossip marks the crashed node offline in every live node\'s table, then alive again', async () => {
  const { page, errors } = await open('s3');
  let s = await next(page);
  assert.equal(s.nodes[3].up, false);
  assert.ok(s.nodes.filter((n) => n.up).every((n) => n.membership.find((m) => m.name === 'S3').status === 'alive'),
    'nobody can tell yet');
  s = await next(page);
  for (const n of s.nodes.filter((n) => n.up)) {
    assert.equal(n.membership.find((m) => m.name === 'S3').status, 'offline', `${n.name} sees S3 offline`);
    assert.ok(n.membership.filter((m) => m.name !== 'S3').every((m) => m.status === 'alive'), `${n.name}: no false suspicion`);
  }
  assert.match(await page.locator('#membership-table tr[data-member="S3"]').innerText(), /offline/);
  assert.equal(await page.locator('#ring .badge.down').count(), 1);
  await screenshot(page, 'scenario-s3-offline');
  s = await next(page);
  for (const n of s.nodes) {
    assert.ok(n.membership.every((m) => m.status === 'alive'), `${n.name} sees everyone alive`);
  }
  await screenshot(page, 'scenario-s3-end');
  assert.deepEqual(errors, []);
});

test('§4: a sloppy quorum stores a hint on the stand-in, handed off and deleted after the restart', async () => {
  const { page, errors } = await open('s4');
  let s = await next(page);
  const owner = s.nodes.find((n) => !n.up);
  assert.ok(owner, 'a preference-list node crashed');
  s = await next(page);
  const holders = s.nodes.filter((n) => n.hints.length > 0);
  assert.equal(holders.length, 1, 'one stand-in holds a hint');
  const standIn = holders[0];
  assert.deepEqual(standIn.hints, [{ owner: owner.name, keys: ['cart'] }]);
  assert.equal(s.selected, standIn.id, 'the page shows the stand-in');
  assert.match(await page.locator('#hints-list').innerText(), new RegExp(`for ${owner.name}`));
  assert.ok(s.console.some((r) => r.op === 'put' && r.ok), 'W=2 acks: the write succeeded');
  // The ring draws the stand-in's line, labelled with the home it holds the hint for.
  assert.equal(await page.locator('#ring .hint-label').textContent(), `hint for ${owner.name}`);
  const put = s.console.find((r) => r.op === 'put');
  assert.ok(put.replicas.includes(`${standIn.name} (hint for ${owner.name})`), JSON.stringify(put));
  await screenshot(page, 'scenario-s4-hint');
  s = await next(page);
  assert.ok(s.nodes.every((n) => n.hints.length === 0), 'the hint was delivered and deleted');
  assert.ok(key(s.nodes[owner.id], 'cart'), `${owner.name} now stores cart`);
  assert.equal(await page.locator('#no-hints').count(), 1);
  await screenshot(page, 'scenario-s4-end');
  assert.deepEqual(errors, []);
});

test('§5: Merkle exchanges sync only the differing buckets, and restore a wiped replica', async () => {
  const { page, errors } = await open('s5');
  let s = await next(page);
  const differing = await page.locator('#merkle-tree .mnode.differs').count();
  assert.ok(differing > 0, 'the cut-off replica\'s tree differs from its peer\'s');
  await screenshot(page, 'scenario-s5-differ');
  s = await next(page);
  assert.ok(s.merkle_syncs.length > 0, 'exchanges synced something');
  for (const sync of s.merkle_syncs) {
    assert.ok(sync.buckets.length > 0 && sync.buckets.length < 16, `only some of 16 buckets: ${sync.buckets}`);
  }
  const synced = s.merkle_syncs.reduce((a, x) => a + x.keys, 0);
  assert.ok(synced >= 3 && synced < 20, `a few keys moved, not the data set (${synced})`);
  const before = s.nodes[1].keys_total;
  s = await next(page);
  assert.equal(s.nodes[1].keys_total, 0, 'the wipe lost everything');
  await screenshot(page, 'scenario-s5-wiped');
  s = await next(page);
  assert.equal(s.nodes[1].keys_total, before, 'anti-entropy restored every key');
  assert.equal(s.invariants.converged, s.invariants.ranges, 'every range converged');
  assert.equal(s.invariants.lost, 0);
  await screenshot(page, 'scenario-s5-end');
  assert.deepEqual(errors, []);
});

test('Back replays to the previous step', async () => {
  const { page, errors } = await open('s2');
  await next(page);
  const at1 = await state(page);
  await next(page);
  await page.click('#sc-back');
  const back = await settled(page);
  assert.equal(back.scenario.step, 1);
  assert.deepEqual(back.nodes, at1.nodes);
  assert.equal(back.trace_hash, at1.trace_hash);
  assert.match(await page.evaluate(() => location.hash), /sc=s2&step=1/);
  assert.deepEqual(errors, []);
});
