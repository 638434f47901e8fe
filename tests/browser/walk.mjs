// Not a test: walks the page as a learner and saves screenshots to target/walk/ (node tests/browser/walk.mjs [what]).
import { serveDist, launch, openPage, ready } from './harness.mjs';
const server = await serveDist();
const b = await launch();
const out = (n) => `target/walk/${n}.png`;
const what = process.argv[2] ?? 'all';
async function tour(id) {
  const { page } = await openPage(b.context, `${server.url}#sc=${id}&step=0`);
  await page.waitForFunction(() => window.kvlab?.state()?.scenario?.settled, null, { timeout: 20000 });
  let i = 0;
  await page.screenshot({ path: out(`${id}-${i}`) });
  for (;;) {
    const s = await page.evaluate(() => window.kvlab.state());
    if (s.scenario.step + 1 >= s.scenario.steps) break;
    await page.click('#sc-next');
    await page.waitForTimeout(1200);
    await page.screenshot({ path: out(`${id}-${++i}-mid`) });
    await page.waitForFunction(() => window.kvlab.state().scenario.settled, null, { timeout: 20000 });
    await page.screenshot({ path: out(`${id}-${i}`) });
  }
  await page.close();
}
if (what === 'all' || what === 'tours') for (const id of ['s1', 's2', 's3', 's4', 's5']) await tour(id);
if (what === 'all' || what === 'free') {
  const { page } = await openPage(b.context, `${server.url}`);
  await ready(page);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out('free-0') });
  await page.close();
}
if (what.startsWith('#')) {
  const { page } = await openPage(b.context, `${server.url}${what}`);
  await ready(page);
  await page.waitForTimeout(2500);
  await page.screenshot({ path: out('frag') });
  await page.close();
}
await b.close();
await server.close();
