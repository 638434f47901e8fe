// The page keeps working when left open: a compressed soak of the long play (32 nodes, heavy
// workload, fastest speed, 60 s). Wasm memory only ever grows, so after warm-up (the snapshots
// filling) it must stay flat; no frame may take over a second; the oracle's verdict stays clean.
// The figures are printed for the note. The 30-minute version is the same with KVLAB_SOAK_S=1800.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, openPage, ready, screenshot, state } from './harness.mjs';

const { server, browser } = useBrowser();
const SECONDS = Number(process.env.KVLAB_SOAK_S ?? 60);
const WARM_UP = Math.min(20, SECONDS / 3);

test(`soak: ${SECONDS} s at 5× with 32 nodes and 260 clients keeps memory flat and frames coming`, async (t) => {
  const { page, errors } = await openPage(browser.context, `${server.url}#seed=7&nodes=32&vnodes=8&wl=260`);
  await ready(page);
  await page.selectOption('#speed', '8'); // 5×, the fastest
  await page.click('#play');
  const r = await page.evaluate((seconds) => new Promise((done) => {
    const start = performance.now();
    let last = start;
    let maxGap = 0;
    let frames = 0;
    const samples = [];
    const gaps = [];
    let nextSample = start;
    function frame(ts) {
      frames += 1;
      const gap = ts - last;
      gaps.push(gap);
      maxGap = Math.max(maxGap, gap);
      last = ts;
      if (ts >= nextSample) {
        const s = window.kvlab.state();
        samples.push({ t: (ts - start) / 1000, mem: window.kvlab.memory(), sim: s.metrics.now, events: s.metrics.events });
        nextSample += 5000;
      }
      if (ts - start < seconds * 1000) requestAnimationFrame(frame);
      else done({ samples, maxGap, frames, gaps, perf: window.kvlab.perf() });
    }
    requestAnimationFrame(frame);
  }), SECONDS);
  const sorted = r.gaps.slice().sort((a, b) => a - b);
  const p95 = sorted[Math.floor(0.95 * sorted.length)];
  const mb = (b) => (b / 2 ** 20).toFixed(0);
  const line = `soak ${SECONDS} s: memory MB ${r.samples.map((s) => mb(s.mem)).join(' ')}; `
    + `sim time ${(r.samples.at(-1).sim / 1000).toFixed(0)} s, ${r.samples.at(-1).events} events; `
    + `${r.frames} frames, p95 ${p95.toFixed(1)} ms, max gap ${r.maxGap.toFixed(0)} ms; `
    + `slowest phases (advance/draw/check/read-out) ${r.perf.map((x) => x.toFixed(1)).join('/')} ms`;
  console.log(`# ${line}`);
  t.diagnostic(line);
  await screenshot(page, 'soak');
  const warm = r.samples.find((s) => s.t >= WARM_UP);
  const end = r.samples.at(-1);
  assert.ok(end.mem <= warm.mem * 1.1 + 16 * 2 ** 20,
    `memory grew after warm-up: ${mb(warm.mem)} MB at ${warm.t.toFixed(0)} s, ${mb(end.mem)} MB at the end`);
  assert.ok(end.mem <= 256 * 2 ** 20, `memory ${mb(end.mem)} MB is over the 256 MB ceiling`);
  assert.ok(r.maxGap < 1000, `a frame took ${r.maxGap.toFixed(0)} ms`);
  const s = await state(page);
  assert.ok(s && s.invariants.acked > 1000, 'the page still answers and the workload ran');
  assert.equal(s.invariants.lost, 0);
  assert.equal(s.invariants.anomalies, 0, s.invariants.anomaly_examples.join('; '));
  assert.deepEqual(errors, []);
});
