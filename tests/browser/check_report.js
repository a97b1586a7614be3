// Open a Snakemake HTML report in headless Chromium (Debian's chromium via playwright-core), show
// the requested figures, and report what loaded and every request that left the page.
// Usage: node check_report.js REPORT.html SPEC.json OUT_DIR
// SPEC: {"figures": [{"category": "2. Dataset", "label": "recording timeline"},
//                    {"category": "5. Evaluation", "subcategory": "within", "label": "tradeoff"}, ...],
//        "pages": [{"category": "1. Results", "label": "headline"}]}   (HTML items, shown in the page)
// Prints JSON: {heading, figures: [{category, label, width, height}], pages: [{category, label, text}],
// offPage: [urls], errors}.
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

(async () => {
  const [report, specPath, outDir] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const offPage = [];
  const errors = [];
  page.on('request', r => {
    const u = r.url();
    if (!/^(file|data|blob|about):/.test(u)) offPage.push(u);
  });
  page.on('pageerror', e => errors.push(e.message));
  await page.goto('file://' + path.resolve(report));
  await page.waitForLoadState('networkidle');
  const heading = await page.innerText('body');
  await page.screenshot({ path: path.join(outDir, 'report_home.png') });
  const figures = [];
  for (const [i, fig] of spec.figures.entries()) {
    await page.goto('file://' + path.resolve(report));
    await page.waitForLoadState('networkidle');
    await page.getByRole('link', { name: fig.category, exact: true }).click();
    if (fig.subcategory) {
      await page.getByRole('link', { name: fig.subcategory, exact: true }).click();
    }
    const row = page.locator('tr', { hasText: fig.label }).first();
    await row.locator('a[iconname="eye"]').click();
    const img = page.locator('img[src^="data:image/png"]').first();
    await img.waitFor({ timeout: 15000 });
    const size = await img.evaluate(e => ({ width: e.naturalWidth, height: e.naturalHeight }));
    await page.screenshot({ path: path.join(outDir, `report_figure_${i}.png`) });
    figures.push({ ...fig, ...size });
  }
  const pages = [];
  for (const [i, item] of (spec.pages || []).entries()) {
    await page.goto('file://' + path.resolve(report));
    await page.waitForLoadState('networkidle');
    await page.getByRole('link', { name: item.category, exact: true }).click();
    const row = page.locator('tr', { hasText: item.label }).first();
    await row.locator('a[iconname="eye"]').click();
    const body = page.frameLocator('iframe').first().locator('body');
    await body.waitFor({ timeout: 15000 });
    const text = await body.innerText();
    await page.screenshot({ path: path.join(outDir, `report_page_${i}.png`) });
    pages.push({ ...item, text });
  }
  await browser.close();
  console.log(JSON.stringify({ heading, figures, pages, offPage, errors }));
})().catch(e => { console.error(e); process.exit(2); });
