// End-to-end test of the dashboard in a real headless Chromium.
// Usage: node e2e/dashboard.mjs http://127.0.0.1:PORT
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.argv[2];
const shots = process.env.SCREENSHOT_DIR;
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-')), {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 1600 },
  deviceScaleFactor: 2,
});
const page = context.pages()[0] ?? await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));

try {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 30000 });
  await page.waitForSelector('#growth canvas[data-drawn="true"]', { timeout: 30000 });
  await page.waitForSelector('#products canvas[data-drawn="true"]', { timeout: 30000 });
  await page.waitForSelector('#quality .kpi', { timeout: 30000 });
  await page.waitForSelector('#users tbody tr', { timeout: 30000 });
  for (const title of ['Average transaction amount per month', 'Top products by total sales', 'Monthly revenue growth', 'Top customers', 'Data quality']) {
    check(await page.getByRole('heading', { name: title }).count() === 1, `section "${title}" shown`);
  }
  check((await page.locator('.error-banner').count()) === 0, 'no error banner');
  const top = (await page.locator('#top-product').textContent())?.trim();
  check(!!top && top.length > 0, `headline product: ${top}`);
  check(/Not attributable to a product/.test(await page.locator('#products .note').textContent()), 'unattributed revenue noted');
  check((await page.locator('#users tbody tr').count()) > 0, 'top customers table filled');
  check(!(await page.locator('body').textContent()).includes('@'), 'no e-mail address on the page');

  // Canvas pixels: not blank, and the growth chart uses red for declines and green for growth.
  const colours = await page.evaluate(() => {
    const count = (sel, pred) => {
      const c = document.querySelector(sel);
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (pred(d[i], d[i + 1], d[i + 2])) n++;
      return n;
    };
    const red = (r, g, b) => r > 180 && g < 110 && b < 110;
    const green = (r, g, b) => g > 130 && r < 90 && b < 140;
    const blue = (r, g, b) => b > 180 && r < 140;
    return {
      growthRed: count('#growth canvas', red), growthGreen: count('#growth canvas', green),
      monthlyBlue: count('#monthly canvas', blue), productsBlue: count('#products canvas', blue),
      dpr: window.devicePixelRatio, width: document.querySelector('#monthly canvas').width,
      cssWidth: document.querySelector('#monthly canvas').getBoundingClientRect().width,
    };
  });
  check(colours.monthlyBlue > 500, `monthly chart drawn (${colours.monthlyBlue} bar pixels)`);
  check(colours.productsBlue > 500, `products chart drawn (${colours.productsBlue} bar pixels)`);
  const growthRows = await page.evaluate(async () => (await (await fetch('/reports/revenue-growth')).json()).months);
  const declines = growthRows.filter((m) => m.declined).length;
  const rises = growthRows.filter((m) => m.growth_pct !== null && !m.declined).length;
  check(declines === 0 || colours.growthRed > 200, `declines drawn in red (${declines} months, ${colours.growthRed} px)`);
  check(rises === 0 || colours.growthGreen > 200, `growth drawn in green (${rises} months, ${colours.growthGreen} px)`);
  check(Math.abs(colours.width - colours.cssWidth * colours.dpr) <= 2, `canvas backing store scaled by devicePixelRatio (${colours.width} px for ${colours.cssWidth} CSS px × ${colours.dpr})`);

  // Tooltip: hovering the first bar of the monthly chart shows its numbers.
  const box = await page.locator('#monthly canvas').boundingBox();
  const months = await page.evaluate(async () => (await (await fetch('/reports/monthly-transactions')).json()).months);
  await page.mouse.move(box.x + 64 + (box.width - 80) / months.length / 2 + 4, box.y + box.height / 2);
  const tip = await page.locator('#monthly .tooltip').textContent({ timeout: 5000 }).catch(() => '');
  check(tip.includes('Transactions:') && tip.includes('Active customers:'), `tooltip: ${tip}`);

  // Data toggle shows the same rows as a table; CSV link carries the parameters.
  await page.locator('#monthly .card-actions button').click();
  check((await page.locator('#monthly tbody tr').count()) === months.length, 'data table has one row per month');
  const csv = await page.locator('#monthly a[download]').getAttribute('href');
  check(csv.includes('format=csv') && csv.includes('months=6'), `CSV link: ${csv}`);
  const csvBody = await page.evaluate(async (u) => (await fetch(u)).text(), csv);
  check(csvBody.trim().split('\n').length === months.length + 1, 'CSV has the same rows');

  // URL state: changing the window updates the query string; back restores it.
  await page.selectOption('#months', '3');
  await page.waitForFunction(() => location.search.includes('months=3'));
  await page.waitForFunction(() => document.querySelectorAll('#growth tbody tr, #growth canvas[data-drawn="true"]').length > 0);
  check(new URL(page.url()).searchParams.get('months') === '3', `URL holds the window: ${page.url()}`);
  await page.goBack();
  await page.waitForFunction(() => !location.search.includes('months=3'));
  check(await page.locator('#months').inputValue() === '6', 'back restores the previous window');
  await page.goto(`${base}/?months=12`, { waitUntil: 'load' });
  await page.waitForSelector('#monthly canvas[data-drawn="true"]');
  check(await page.locator('#months').inputValue() === '12', 'a shared link reopens the same view');

  // A change of the system theme redraws the charts in dark colours.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(300);
  const bg = await page.evaluate(() => {
    const c = document.querySelector('#monthly canvas');
    return Array.from(c.getContext('2d').getImageData(2, 2, 1, 1).data.slice(0, 3));
  });
  check(bg.every((v) => v < 60), `dark theme redraws charts (background ${bg})`);
  await page.emulateMedia({ colorScheme: 'light' });

  if (shots) {
    await page.screenshot({ path: join(shots, 'dashboard-light.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, 'dashboard-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize({ width: 390, height: 900 });
    await page.screenshot({ path: join(shots, 'dashboard-phone.png'), fullPage: true });
  }

  // API failure: an error banner names what failed, with a retry button.
  await page.route('**/reports/top-users*', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"database_unavailable","message":"the database is unavailable"}' }));
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#users .error-banner', { timeout: 30000 });
  const banner = await page.locator('#users .error-banner').textContent();
  check(banner.includes('top customers') && banner.includes('503'), `error banner: ${banner}`);
  await page.unroute('**/reports/top-users*');
  await page.locator('#users .error-banner button').click();
  await page.waitForSelector('#users tbody tr', { timeout: 30000 });
  check(true, 'retry recovers');

  // No dashboard route shadows the API.
  const api = await page.evaluate(async () => (await fetch('/quality')).headers.get('content-type'));
  check(api.includes('application/json'), '/quality is still the API');
  check(errors.length === 0, `no page errors ${errors.join(' | ')}`);
} catch (e) {
  console.log(`FAIL ${e}`);
  failures++;
} finally {
  await context.close();
}
if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('dashboard e2e: all checks passed');
