// Drive the Streamlit replay app in headless Chromium (Debian's chromium via playwright-core):
// wait for the first run, read the threshold and alarm count, move the threshold slider down
// STEPS stops with the keyboard, read them again, save screenshots, and log every request that
// left 127.0.0.1.
// Usage: node check_app.js URL STEPS OUT_DIR [TOGGLE_LABEL...]  (toggles clicked first)
// Then click Play, wait for the cursor to move, click Pause.
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
    await page.locator('[data-testid="stCheckbox"]', { hasText: label }).locator('label').click();
    await page.waitForTimeout(500);
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
  // Each key press may start a rerun: read until two settled readings a second apart agree.
  let after = null;
  for (let i = 0; i < 30; i++) {
    await settled(page);
    const now = await reading(page);
    if (after && now.threshold === after.threshold && now.alarms === after.alarms) break;
    after = now;
    await page.waitForTimeout(1000);
  }
  await page.screenshot({ path: path.join(outDir, 'app_after.png'), fullPage: true });
  // Replay: Play advances the cursor on the app's timer; Pause stops it.
  const cursor = () => page.evaluate(() => Number(document.querySelector('#app-cursor').textContent));
  const start = await cursor();
  await page.getByRole('button', { name: 'Play' }).click();
  await page.waitForFunction(
    c => Number(document.querySelector('#app-cursor')?.textContent) > c, start, { timeout: 60000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await settled(page);
  const replay = { start, playing: await cursor() };
  await page.waitForTimeout(3000);
  replay.paused = await cursor();
  await browser.close();
  console.log(JSON.stringify({ before, after, replay, offHost, errors }));
})().catch(e => { console.error(e); process.exit(2); });
