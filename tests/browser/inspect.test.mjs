// The inspector's teaching views: the failure detector's timers (§3), every replica of a key side
// by side (§4), and both trees of a Merkle exchange with the walk from the roots (§5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, state, openPage, screenshot } from './harness.mjs';

const { server, browser } = useBrowser();

async function settled(page) {
  await page.waitForFunction(() => window.kvlab?.state()?.scenario?.settled, null, { timeout: 20000 });
  return state(page);
}

async function openStep(id, step) {
  const opened = await openPage(browser.context, `${server.url}#sc=${id}&step=${step}`);
  const s = await settled(opened.page);
  assert.equal(s.scenario.step, step);
  return { ...opened, s };
}

/// Seconds in "offline in 1.2 s" / "forgotten in 4.8 s".
const seconds = (text) => {
  const m = text.match(/in (\d+\.\d) s/);
  assert.ok(m, `a countdown in “${text}”`);
  return Number(m[1]);
};

const row = (page, name) => page.locator(`#membership-table tr[data-member="${name}"]`);

async function rounds(page, n) {
  for (let i = 0; i < n; i++) await page.click('#round');
}

test('§3 after the crash: the membership tab shows T_fail and T_cleanup, and S3\'s countdown runs down', async () => {
  const { page, errors, s } = await openStep('s3', 1);
  assert.equal(s.panel, 'membership');
  assert.equal(s.nodes[3].up, false, 'S3 crashed');
  assert.equal(await page.locator('#t-fail').innerText(), '2.0 s');
  assert.equal(await page.locator('#t-cleanup').innerText(), '6.0 s');
  assert.match(await page.locator('#panel-membership').innerText(), /own clock/);
  // Gossip may still bring the last counters S3 sent before it crashed; after a few rounds its
  // heartbeat stops growing and only the countdown moves.
  await rounds(page, 6);
  const hb = await row(page, 'S3').locator('.hb').innerText();
  const first = seconds(await row(page, 'S3').locator('.fd-text').innerText());
  assert.match(await row(page, 'S3').locator('.heard').innerText(), /^heard \d+ ms ago$/);
  const w1 = await row(page, 'S3').locator('.fd-bar i').evaluate((e) => parseFloat(e.style.width));
  await rounds(page, 5);
  assert.equal(await row(page, 'S3').locator('.hb').innerText(), hb, 'S3\'s heartbeat stopped');
  const later = seconds(await row(page, 'S3').locator('.fd-text').innerText());
  assert.ok(Math.abs(first - later - 0.5) < 0.051, `five 100 ms rounds take 0.5 s off: ${first} → ${later}`);
  const w2 = await row(page, 'S3').locator('.fd-bar i').evaluate((e) => parseFloat(e.style.width));
  assert.ok(w2 > w1, `the bar grows (${w1}% → ${w2}%)`);
  assert.equal(await row(page, 'S3').getAttribute('data-stage'), 'stalled');
  // The live members' counters keep increasing: none of them runs out.
  for (const n of ['S1', 'S2', 'S4']) {
    assert.ok(seconds(await row(page, n).locator('.fd-text').innerText()) > 1.0, `${n} is heard regularly`);
  }
  assert.match(await row(page, 'S0').innerText(), /itself/);
  await screenshot(page, 'inspect-s3-countdown');

  // Playing (not stepping) moves the countdown too.
  await page.click('#play');
  await page.waitForFunction(
    (t) => {
      const el = document.querySelector('#membership-table tr[data-member="S3"] .fd-text');
      const m = el?.innerText.match(/in (\d+\.\d) s/);
      return m && Number(m[1]) < t;
    },
    later,
    { timeout: 20000 },
  );
  await page.click('#play');
  assert.deepEqual(errors, []);
});

test('§3 offline, then restarted: the T_cleanup countdown, and a heartbeat that starts at the restart time', async () => {
  let { page, errors } = await openStep('s3', 2);
  const text = await row(page, 'S3').locator('.fd-text').innerText();
  assert.match(text, /^offline · forgotten in \d+\.\d s$/);
  assert.equal(await row(page, 'S3').getAttribute('data-stage'), 'offline');
  await screenshot(page, 'inspect-s3-offline');
  assert.deepEqual(errors, []);
  ({ page, errors } = await openStep('s3', 3));
  const hb = Number((await row(page, 'S3').locator('.hb').innerText()).replace(/\D/g, ''));
  assert.ok(hb > 4000, `S3's heartbeat started at its restart time in ms (${hb})`);
  assert.match(await page.locator('#hb-numbering').innerText(), /S3 restarted/);
  await screenshot(page, 'inspect-s3-restarted');
  assert.deepEqual(errors, []);
});

test('§4 step 3: the replicas of cart show the homes and the stand-in with its hint', async () => {
  const { page, errors, s } = await openStep('s4', 2);
  const owner = s.nodes.find((n) => !n.up);
  const standIn = s.nodes.find((n) => n.hints.length > 0);
  assert.ok(owner && standIn);
  await page.click('#tab-replicas');
  assert.equal(await page.locator('#replicas-key').innerText(), 'cart');
  const cols = page.locator('#replicas .rcol');
  assert.equal(await cols.count(), 4, 'three homes and one stand-in');
  for (let i = 0; i < 3; i++) assert.match(await cols.nth(i).innerText(), new RegExp(`home #${i + 1}`));
  const stand = page.locator('#replicas .rcol.stand-in');
  assert.equal(await stand.getAttribute('data-node'), standIn.name);
  assert.match(await stand.locator('.hint-badge').innerText(), new RegExp(`^hint for ${owner.name}$`));
  assert.match(await stand.innerText(), /hinted/);
  // The crashed home holds nothing and is marked as disagreeing; the other homes hold the write.
  const home = page.locator(`#replicas .rcol[data-node="${owner.name}"]`);
  assert.match(await home.innerText(), /crashed/);
  assert.match(await home.locator('.rdiff').innerText(), /lacks/);
  assert.match(await page.locator('#replicas-verdict').innerText(), /disagree/);
  // The columns sit side by side.
  const boxes = await Promise.all([0, 1, 2, 3].map((i) => cols.nth(i).boundingBox()));
  for (let i = 1; i < 4; i++) assert.ok(boxes[i].x > boxes[i - 1].x && Math.abs(boxes[i].y - boxes[0].y) < 2);
  await screenshot(page, 'inspect-s4-replicas');
  assert.deepEqual(errors, []);
});

test('a key is selected by a click on its dot on the ring or its row in a storage table', async () => {
  const { page, errors } = await openStep('s2', 2);
  await page.click('#tab-storage');
  await page.click('#storage-table tbody tr[data-key="cart"] td');
  let s = await state(page);
  assert.equal(s.panel, 'replicas');
  assert.equal(await page.locator('#replicas .rcol').count(), 3);
  const text = await page.locator('#replicas').innerText();
  assert.match(text, /\(Sy,1\)\s*saw\s*\[Sx,2\]/);
  assert.match(text, /\(Sz,1\)\s*saw\s*\[Sx,2\]/);
  assert.match(text, /\[Sx,2\]/);
  await screenshot(page, 'inspect-s2-replicas');
  await page.click('#tab-hints');
  await page.locator('#ring circle.key[data-key="cart"]').dispatchEvent('click');
  s = await state(page);
  assert.equal(s.panel, 'replicas');
  assert.deepEqual(errors, []);
});

test('§5 step 3: both trees side by side, the peer is the last exchange\'s, the walk reaches the buckets', async () => {
  const { page, errors, s } = await openStep('s5', 2);
  assert.equal(s.panel, 'merkle');
  assert.equal(s.selected, 1);
  const mine = page.locator('#merkle-tree');
  const theirs = page.locator('#merkle-peer-tree');
  const [a, b] = [await mine.boundingBox(), await theirs.boundingBox()];
  assert.ok(b.x > a.x + a.width - 1 && Math.abs(a.y - b.y) < 2, 'side by side');
  assert.equal(await mine.locator('.level[data-level="4"] .mnode').count(), 16);
  assert.equal(await theirs.locator('.level[data-level="4"] .mnode').count(), 16);
  const last = s.merkle_syncs.filter((x) => x.node === 'S1' && x.buckets.length > 0).at(-1);
  assert.ok(last, 'S1 exchanged');
  const heads = await page.locator('.mtree-head b').allInnerTexts();
  assert.deepEqual(heads, ['S1', last.peer]);
  assert.match(await page.locator('#merkle-peer').innerText(), new RegExp(`^Compared with ${last.peer}, the peer of S1's last exchange`));
  // The walk runs on its own timer (the simulation is paused) down to the synced buckets.
  await page.waitForSelector('#merkle-walk.walk-done', { timeout: 10000 });
  const words = await page.locator('#merkle-walk li').allInnerTexts();
  assert.equal(words[0], 'roots differed');
  const list = last.buckets.join(', ');
  assert.ok(words.some((w) => w.endsWith(`${last.buckets.length === 1 ? 'bucket' : 'buckets'} ${list} differed`)), words.join(' / '));
  assert.match(words.at(-1), /^exchanged the keys of th(ose buckets|at bucket) only$/);
  const walked = await mine.locator('.level[data-level="4"] .mnode').evaluateAll((els) =>
    els.map((e, i) => (e.classList.contains('walk') ? i : -1)).filter((i) => i >= 0));
  assert.deepEqual(walked, last.buckets);
  assert.equal(await mine.locator('.level[data-level="0"] .mnode.walk').count(), 1, 'from the root');
  await screenshot(page, 'inspect-s5-walk');
  // "walk" plays it again from the roots.
  await page.click('#merkle-walk-again');
  await page.waitForFunction(() => !document.querySelector('#merkle-walk.walk-done'));
  await page.waitForTimeout(1200);
  await screenshot(page, 'inspect-s5-walk-midway');
  await page.waitForSelector('#merkle-walk.walk-done', { timeout: 10000 });
  assert.deepEqual(errors, []);
});

test('§5 step 2: where the trees differ now, both are marked and the walk names the buckets', async () => {
  const { page, errors } = await openStep('s5', 1);
  const d1 = await page.locator('#merkle-tree .mnode.differs').count();
  const d2 = await page.locator('#merkle-peer-tree .mnode.differs').count();
  assert.equal(d1, d2, 'the same nodes differ on both trees');
  const buckets = Number((await page.locator('#merkle-differing').innerText()).match(/^(\d+)/)[1]);
  assert.equal(await page.locator('#merkle-tree .level[data-level="4"] .mnode.differs').count(), buckets);
  await page.waitForSelector('#merkle-walk.walk-done', { timeout: 10000 });
  const words = await page.locator('#merkle-walk li').allInnerTexts();
  assert.ok(buckets > 0, 'S1 missed writes while cut off');
  assert.equal(words[0], 'roots differ');
  assert.match(words.at(-2), new RegExp(`bucket.* differs?$`));
  assert.match(words.at(-1), /^exchange the keys of/);
  await screenshot(page, 'inspect-s5-differ');
  assert.deepEqual(errors, []);
});
