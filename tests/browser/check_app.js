// Drive the Streamlit replay app in headless Chromium (Debian's chromium via playwright-core):
// wait for the first run, read the threshold and alarm count, move the threshold slider down
// STEPS stops with the keyboard, read them again, save screenshots, and log every request that
// left 127.0.0.1.
// Usage: node check_app.js URL STEPS OUT_DIR [TOGGLE_LABEL...]  (toggles clicked first)
// Then click Play, wait for the cursor to move twice (Play's own run, then a tick on the app's
// timer), click Pause. Every wait is on something the page shows, except the last: a few replay
// ticks' time to see that the cursor stays paused.
// Prints JSON: {before: {threshold, alarms}, after: {...}, replay: {start, playing, paused},
// offHost: [urls], errors}.
const { chromium } = require('playwright-core');
const path = require('path');

async function settled(page) {
  // A script run is over when the app says so and no element is stale.
  await page.waitForSelector('[data-testid="stApp"][data-test-script-state="notRunning"]', {
    timeout: 60000,
  });
  await page.waitForFunction(() => !document.querySelector('[data-stale="true"]'), null, {
    timeout: 60000,
  });
}

const TICK_MS = 1000; // the app's replay tick (TICK_SEC in app/app.py)

async function text(page, selector) {
  await page.waitForSelector(selector, { timeout: 60000 });
  return page.evaluate(s => document.querySelector(s).textContent, selector);
}

async function reading(page) {
  await page.waitForSelector('#app-alarm-count', { timeout: 60000 });
  return page.evaluate(() => ({
    threshold: document.querySelector('#app-threshold').textContent,
    alarms: Number(document.querySelector('#app-alarm-count').textContent),
  }));
}

(async () => {
  const [url, steps, outDir, ...toggles] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 1300 } });
  const host = new URL(url).host;
  const offHost = [];
  const errors = [];
  page.on('request', r => {
    const u = new URL(r.url());
    if (!['data:', 'blob:', 'about:'].includes(u.protocol) && u.host !== host) offHost.push(r.url());
  });
  page.on('pageerror', e => errors.push(e.message));
  await page.goto(url);
  await settled(page);
  for (const label of toggles) {
    // The app names the post-processing it used: wait for a run that used the toggled one (a
    // settled page alone can be the one from before the click, its rerun not yet started).
    const used = await text(page, '#app-postprocessing');
    await page.locator('[data-testid="stCheckbox"]', { hasText: label }).locator('label').click();
    await page.waitForFunction(
      u => document.querySelector('#app-postprocessing')?.textContent !== u, used,
      { timeout: 60000 });
    await settled(page);
  }
  const before = await reading(page);
  await page.screenshot({ path: path.join(outDir, 'app_before.png'), fullPage: true });
  const slider = page.getByRole('slider', { name: 'Threshold on the post-processed risk' });
  await slider.focus();
  for (let i = 0; i < Number(steps); i++) await slider.press('ArrowLeft');
  await page.waitForFunction(
    t => document.querySelector('#app-threshold')?.textContent !== t, before.threshold,
    { timeout: 60000 });
  // Each key press may start a rerun: wait for the run whose threshold is the one the slider
  // holds now (its label is the threshold to 4 decimals), then for that run to end.
  await page.waitForFunction(
    () => {
      const held = document.querySelector(
        'input[aria-label="Threshold on the post-processed risk"]')?.getAttribute('aria-valuetext');
      const shown = document.querySelector('#app-threshold')?.textContent;
      return held && shown && Number(shown).toFixed(4) === held;
    }, null, { timeout: 60000 });
  await settled(page);
  const after = await reading(page);
  await page.screenshot({ path: path.join(outDir, 'app_after.png'), fullPage: true });
  // Replay: Play advances the cursor on the app's timer; Pause stops it.
  const cursor = () => page.evaluate(() => Number(document.querySelector('#app-cursor').textContent));
  const start = await cursor();
  const movedPast = c => page.waitForFunction(
    c => Number(document.querySelector('#app-cursor')?.textContent) > c, c, { timeout: 60000 });
  await page.getByRole('button', { name: 'Play' }).click();
  await movedPast(start); // Play's own run takes the first step
  await movedPast(await cursor()); // then a tick on the app's timer
  // The seek slider is off the page while playing and back once Pause's run is on it.
  const seek = page.getByRole('slider', { name: /^Cursor \(s on the case's timeline/ });
  await seek.waitFor({ state: 'detached', timeout: 60000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await seek.waitFor({ timeout: 60000 });
  await settled(page);
  const replay = { start, playing: await cursor() };
  // Paused, nothing should move the cursor any more; a tick the browser asked for before Pause
  // may still run, so watch for three ticks' time and stop at the first change.
  await page.waitForFunction(
    c => Number(document.querySelector('#app-cursor')?.textContent) !== c, replay.playing,
    { timeout: 3 * TICK_MS }).catch(e => { if (e.name !== 'TimeoutError') throw e; });
  replay.paused = await cursor();
  await browser.close();
  console.log(JSON.stringify({ before, after, replay, offHost, errors }));
})().catch(e => { console.error(e); process.exit(2); });
