// End-to-end test of the dashboard in a real headless Chromium.
// Usage: node e2e/dashboard.mjs http://127.0.0.1:PORT [http://127.0.0.1:AUTH_PORT]
// The first server is in open mode (no token exists). The second, when given,
// has tokens: E2E_READER_TOKEN and E2E_ADMIN_TOKEN, and E2E_UPLOAD_DIR holds
// the three export files an admin uploads to it.
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recurringChecks, recurringHeadlineChecks } from './recurring.mjs';
import { a11yChecks } from './a11y.mjs';
import { drillDownChecks } from './drill.mjs';

const base = process.argv[2];
const authBase = process.argv[3];
const shots = process.env.SCREENSHOT_DIR;
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

// A browser of its own per server: cookies are shared by every port of a host.
const launch = () => chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-')), {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 1600 },
  deviceScaleFactor: 2,
});
const context = await launch();
const page = context.pages()[0] ?? await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));

try {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  // The server compresses the .wasm when it is first asked for: seconds in a
  // debug build, and more than 30 on a busy machine.
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 180000 });
  await page.waitForSelector('#growth canvas[data-drawn="true"]', { timeout: 30000 });
  await page.waitForSelector('#products canvas[data-drawn="true"]', { timeout: 30000 });
  await page.waitForSelector('#quality-summary .score-value', { timeout: 30000 });
  await page.waitForSelector('#users tbody tr', { timeout: 30000 });
  for (const title of ['Average transaction amount per month', 'Top products by total sales', 'Monthly revenue growth', 'Top customers', 'Data quality']) {
    check(await page.getByRole('heading', { name: title }).count() === 1, `section "${title}" shown`);
  }
  check((await page.locator('.error-banner').count()) === 0, 'no error banner');
  // Open mode: nobody to sign out, a discreet note instead; everyone is an admin.
  check((await page.locator('#open-mode').textContent()) === 'open mode: no tokens exist, everyone has full rights', 'open mode is noted in the header');
  check((await page.locator('#sign-out').count()) === 0 && (await page.locator('#sign-in').count()) === 0, 'open mode: no sign-in, no sign-out');
  const top = (await page.locator('#top-product').textContent())?.trim();
  check(!!top && top.length > 0, `headline product: ${top}`);
  check(/Not attributable to a product/.test(await page.locator('#products .note').textContent()), 'unattributed revenue noted');
  check(/^[\d.]+% of revenue is attributable to a product$/.test((await page.locator('#attributed-share').textContent())?.trim()), 'the headline says the attributable share');
  check(/^Not attributable: .+ \([\d.]+%\)$/.test((await page.locator('#unattributed-share').textContent())?.trim()), 'the unattributed share has its own figure');
  check((await page.locator('#users tbody tr').count()) > 0, 'top customers table filled');
  check(!(await page.locator('body').textContent()).includes('@'), 'no e-mail address on the page');
  // The quality counts moved to their own page; a teaser with the score links there.
  const quality = await page.evaluate(async () => (await fetch('/quality')).json());
  check((await page.locator('#quality').count()) === 0 && (await page.locator('.kpi').count()) === 0, 'the quality counts are no longer on the reports page');
  const dataOverall = (quality.data_score ?? quality.score).overall;
  check((await page.locator('#quality-summary-score').textContent()) === `${dataOverall}%`, `reports page teaser shows the data's overall score (${dataOverall}%)`);
  check(await page.locator('#quality-summary a').getAttribute('href') === '/data-quality', 'the teaser links to the quality page');

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

  // ---- Ingests: the run history and one run, reached through the navigation.
  await page.setViewportSize({ width: 1280, height: 1600 });
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 30000 });
  const navIngests = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Ingests' });
  check(await navIngests.getAttribute('href') === '/runs', 'nav link "Ingests" is a real link to /runs');
  check(await page.getByRole('link', { name: 'Reports' }).getAttribute('aria-current') === 'page', 'nav marks the reports page as current');
  // A property set on window survives only if the app navigates without reloading.
  await page.evaluate(() => { window.__stillTheSamePage = true; });
  await navIngests.click();
  await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
  check(new URL(page.url()).pathname === '/runs', `URL after the nav link: ${page.url()}`);
  check(await page.evaluate(() => window.__stillTheSamePage === true), 'the nav link navigates inside the app (no reload)');
  check(await navIngests.getAttribute('aria-current') === 'page', 'nav marks the runs page as current');
  check(await page.getByRole('heading', { name: 'Ingest runs' }).count() === 1, 'runs page heading');
  check((await page.locator('#upload-form input[type="file"]').count()) === 3, 'open mode: the upload form (everyone is an admin)');
  const history = await page.evaluate(async () => (await (await fetch('/ingests')).json()));
  check((await page.locator('#runs tbody tr').count()) === history.runs.length, `one row per run (${history.runs.length})`);
  const ids = await page.locator('#runs tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.dataset.run)));
  check(ids.every((id, i) => i === 0 || id < ids[i - 1]), `runs newest first (${ids})`);
  const green = page.locator('#runs .badge.good', { hasText: 'succeeded' });
  check((await green.count()) >= 1, 'a run with status "succeeded"');
  const colourOf = (loc) => loc.first().evaluate((e) => getComputedStyle(e).color.match(/\d+/g).map(Number));
  const [gr, gg, gb] = await colourOf(green);
  check(gg > gr && gg > gb, `succeeded badge is green (rgb ${gr},${gg},${gb})`);
  const refused = history.runs.find((r) => r.status === 'refused');
  if (refused) {
    const row = page.locator(`#runs tr[data-run="${refused.id}"]`);
    const [rr, rg, rb] = await colourOf(row.locator('.badge'));
    check(rr > rg && rr > rb, `refused badge is red (rgb ${rr},${rg},${rb})`);
    check((await row.locator('.message').textContent()).includes('max-reject-pct'), 'the refusal is explained in the list');
  }
  const target = history.runs.find((r) => r.status === 'succeeded' && r.files.some((f) => f.rejected > 0));
  const clean = history.runs.find((r) => r.status === 'succeeded' && r.files.every((f) => f.rejected === 0));
  check(!!target && !!clean, `fixture runs present (with rejections: ${target?.id}, without: ${clean?.id})`);
  const txSummary = page.locator(`#runs tr[data-run="${target.id}"] li`, { hasText: 'transactions.csv' });
  check(/21 read · 18 loaded · 3 rejected/.test(await txSummary.textContent()), 'per-file counts shown compactly in the list');
  check((await txSummary.locator('.warn').textContent()) === '3 rejected', 'rejected rows stand out in the list');

  // Open the run: header, files, changes, reasons, rejected rows.
  await page.locator(`#runs a[href="/runs/${target.id}"]`).click();
  await page.waitForSelector('#files tbody tr', { timeout: 30000 });
  check(new URL(page.url()).pathname === `/runs/${target.id}`, `URL of the run: ${page.url()}`);
  for (const title of [`Run ${target.id}`, 'Files', 'Changes', 'Rejection reasons', 'Rejected rows']) {
    check(await page.getByRole('heading', { name: title, exact: true }).count() === 1, `run section "${title}" shown`);
  }
  check((await page.locator('#files tbody tr').count()) === target.files.length, 'one row per file');
  const tx = target.files.find((f) => f.file === 'transactions.csv');
  const txCells = await page.locator('#files tbody tr', { hasText: 'transactions.csv' }).locator('td').allTextContents();
  check(txCells[0] === String(tx.read) && txCells[1] === String(tx.loaded) && txCells[4] === String(tx.rejected),
    `transactions.csv counts: ${txCells.join(' / ')}`);
  const changes = await page.locator('#changes').textContent();
  check(changes.includes('Revenue (USD)') && changes.includes('+18'), 'changes: per-currency revenue and the new transactions');
  const detail = await page.evaluate(async (id) => (await (await fetch(`/ingests/${id}`)).json()), target.id);
  const currencies = new Set([...Object.keys(detail.before.revenue), ...Object.keys(detail.after.revenue)]);
  check((await page.locator('#changes tr[data-currency]').count()) === currencies.size, `one revenue row per currency (${[...currencies]})`);
  const reasons = await page.locator('#reasons').textContent();
  check(['invalid_date', 'invalid_amount', 'unknown_currency', 'empty_customer_id'].every((r) => reasons.includes(r)), 'rejection reasons listed');
  check(reasons.includes('unrecognised date "yesterday"'), 'a reason shows its first example');
  await page.waitForSelector('#rejections tbody tr', { timeout: 30000 });
  const rejectedTotal = target.files.reduce((n, f) => n + f.rejected, 0);
  check((await page.locator('#rejections tbody tr').count()) === rejectedTotal, `rejected rows table (${rejectedTotal} rows)`);
  const rowsText = await page.locator('#rejections table').textContent();
  check(rowsText.includes('n***@e***.org'), 'the rejected e-mail address is shown masked');
  check(!rowsText.includes('no.id.person@example.org') && !(await page.locator('body').textContent()).includes('no.id.person@'), 'the raw e-mail address is not shown');
  check(!/[^\s*]@|@[^\s*]{2}/.test(rowsText), 'every "@" in the rejected rows belongs to a masked address');

  // Filter by reason: URL, rows and the CSV link follow.
  await page.selectOption('#rejections-reason', 'invalid_date');
  await page.waitForFunction(() => location.search === '?reason=invalid_date');
  await page.waitForFunction(() => document.querySelectorAll('#rejections tbody tr').length === 1);
  check((await page.locator('#rejections tbody tr').textContent()).includes('yesterday'), 'filtered by reason: the bad-date row');
  const rejCsv = await page.locator('#rejections a[download]').getAttribute('href');
  check(rejCsv === `/ingests/${target.id}/rejections?reason=invalid_date&format=csv`, `rejections CSV link: ${rejCsv}`);
  const rejCsvBody = (await page.evaluate(async (u) => (await fetch(u)).text(), rejCsv)).trim().split('\n');
  check(rejCsvBody.length === 2 && rejCsvBody[1].includes('txn_e2e_bad_date'), 'the CSV holds exactly the filtered rows');
  // Another file drops a reason that file does not have.
  await page.selectOption('#rejections-file', 'users.csv');
  await page.waitForFunction(() => location.search === '?file=users.csv');
  await page.waitForFunction(() => document.querySelectorAll('#rejections tbody tr').length === 1);
  check((await page.locator('#rejections tbody tr').textContent()).includes('empty_customer_id'), 'filtered by file: users.csv');
  check(await page.locator('#rejections-reason').inputValue() === '', 'the reason filter is cleared for a file without it');

  // Back/forward walk the filters, then the pages.
  await page.goBack();
  await page.waitForFunction(() => location.search === '?reason=invalid_date');
  await page.waitForFunction(() => document.querySelectorAll('#rejections tbody tr').length === 1);
  check(await page.locator('#rejections-reason').inputValue() === 'invalid_date', 'back restores the reason filter');
  await page.goBack();
  await page.waitForFunction(() => location.search === '');
  await page.goBack();
  await page.waitForFunction(() => location.pathname === '/runs');
  await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
  check(true, 'back returns to /runs with its table');
  await page.goBack();
  await page.waitForFunction(() => location.pathname === '/');
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 30000 });
  await page.waitForSelector('#growth canvas[data-drawn="true"]', { timeout: 30000 });
  check(await page.evaluate(() => window.__stillTheSamePage === true), 'back to the reports page: charts drawn again, no reload');
  await page.goForward();
  await page.waitForFunction(() => location.pathname === '/runs');
  await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
  check(true, 'forward returns to /runs');

  // Deep links: a run with a filter, the list, a run without rejections, a missing run, an unknown page.
  await page.goto(`${base}/runs/${target.id}?reason=unknown_currency`, { waitUntil: 'load' });
  await page.waitForFunction(() => document.querySelectorAll('#rejections tbody tr').length === 1, null, { timeout: 30000 });
  check(await page.locator('#rejections-reason').inputValue() === 'unknown_currency', 'a deep link reopens the run with its filter');
  check((await page.locator('#rejections tbody tr').textContent()).includes('xxx'), 'deep link shows the filtered row');
  await page.goto(`${base}/runs/${clean.id}`, { waitUntil: 'load' });
  await page.waitForSelector('#rejections .empty', { timeout: 30000 });
  check((await page.locator('#rejections .empty').textContent()).includes('rejected no rows'), 'a run without rejections says so');
  check((await page.locator('#reasons .empty').textContent()).includes('No rows were rejected'), 'no rejection reasons: empty state');
  check((await page.locator('#rejections-reason').count()) === 0, 'no filters without rejected rows');
  await page.goto(`${base}/runs/999999`, { waitUntil: 'load' });
  await page.waitForSelector('#run .error-banner', { timeout: 30000 });
  check((await page.locator('#run .error-banner').textContent()).includes('404'), 'a missing run shows the error banner');
  await page.goto(`${base}/no-such-page`, { waitUntil: 'load' });
  await page.waitForSelector('text=Page not found', { timeout: 30000 });
  check(true, 'an unknown path shows "Page not found"');

  // The run list's error banner and retry.
  const isList = (url) => url.pathname === '/ingests';
  await page.route(isList, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"database_unavailable","message":"the database is unavailable"}' }));
  await page.goto(`${base}/runs`, { waitUntil: 'load' });
  await page.waitForSelector('#runs .error-banner', { timeout: 30000 });
  const runsBanner = await page.locator('#runs .error-banner').textContent();
  check(runsBanner.includes('ingest runs') && runsBanner.includes('503'), `runs error banner: ${runsBanner}`);
  await page.unroute(isList);
  await page.locator('#runs .error-banner button').click();
  await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
  check(true, 'retry loads the runs');

  // Paging: an offset in the URL shows a later page; "Previous" goes back to the first.
  await page.goto(`${base}/runs?offset=1`, { waitUntil: 'load' });
  await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
  check((await page.locator('#runs tbody tr').count()) === history.runs.length - 1, 'a later page of runs');
  check((await page.locator('#runs .pager-range').textContent()) === `Showing 2–${history.runs.length} of ${history.runs.length} runs`, 'pager names the range');
  check(await page.getByRole('button', { name: 'Next →' }).isDisabled(), 'no next page after the last run');
  await page.getByRole('button', { name: '← Previous' }).click();
  await page.waitForFunction(() => location.search === '');
  await page.waitForFunction((n) => document.querySelectorAll('#runs tbody tr').length === n, history.runs.length);
  check(true, '"Previous" returns to the first page');

  // ---- Data quality: reached through the navigation, from the reports page.
  // Pixel counts of one canvas: per predicate, optionally along one line (CSS px).
  const canvasPixels = (sel, preds, line) => page.evaluate(({ sel, preds, line }) => {
    const c = document.querySelector(sel);
    const dpr = c.width / c.getBoundingClientRect().width;
    const fns = Object.fromEntries(Object.entries(preds).map(([k, src]) => [k, new Function('r', 'g', 'b', `return ${src};`)]));
    let x0 = 0, x1 = c.width, y0 = 0, y1 = c.height;
    if (line) { x0 = Math.floor(line.x0 * dpr); x1 = Math.ceil(line.x1 * dpr); y0 = Math.round(line.y * dpr); y1 = y0 + 1; }
    const d = c.getContext('2d').getImageData(x0, y0, x1 - x0, y1 - y0).data;
    const counts = Object.fromEntries(Object.keys(fns).map((k) => [k, 0]));
    for (let i = 0; i < d.length; i += 4) for (const [k, f] of Object.entries(fns)) if (f(d[i], d[i + 1], d[i + 2])) counts[k]++;
    return counts;
  }, { sel, preds, line });
  const RED = 'r > 180 && g < 110 && b < 110';
  const GREEN = 'g > 130 && r < 90 && b < 140';
  const BLUE = 'b > 180 && r < 140 && g < 180';
  const near = ([R, G, B]) => `Math.abs(r - ${R}) <= 10 && Math.abs(g - ${G}) <= 10 && Math.abs(b - ${B}) <= 10`;
  const plotArea = async (sel) => (await page.locator(sel).getAttribute('data-plot-area')).split(' ').map(Number);
  const drawnQuality = async () => {
    for (const id of ['dimensions', 'trend', 'rows']) await page.waitForSelector(`#${id} canvas[data-drawn="true"]`, { timeout: 30000 });
    await page.waitForSelector('#quality .kpi', { timeout: 30000 });
  };
  const qualityNow = await page.evaluate(async () => (await fetch('/quality')).json());
  const qHistory = (await page.evaluate(async () => (await fetch('/quality/history')).json())).runs;
  const latestRun = qHistory[qHistory.length - 1];
  check(qHistory.length >= 3, `the quality history has runs to chart (${qHistory.map((r) => r.run_id)})`);

  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 30000 });
  await page.evaluate(() => { window.__stillTheSamePage = true; });
  const navQuality = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Data quality' });
  check(await navQuality.getAttribute('href') === '/data-quality', 'nav link "Data quality" is a real link to /data-quality');
  await navQuality.click();
  await drawnQuality();
  check(new URL(page.url()).pathname === '/data-quality', `URL after the nav link: ${page.url()}`);
  check(await page.evaluate(() => window.__stillTheSamePage === true), 'the quality nav link navigates inside the app (no reload)');
  check(await navQuality.getAttribute('aria-current') === 'page', 'nav marks the quality page as current');
  check(await page.title() === 'Data quality · Revenue analytics', `page title: ${await page.title()}`);
  for (const title of ['Quality score', 'Alerts', 'Dimensions', 'Rows per run', 'Quality over time', 'Checks of the loaded data']) {
    check(await page.getByRole('heading', { name: title, exact: true }).count() === 1, `quality section "${title}" shown`);
  }
  check((await page.locator('.error-banner').count()) === 0, 'no error banner on the quality page');

  // The score, its change since the run before, the rows of its run.
  // The page shows the data's score as loaded (every run since the last replace), the run's beside it.
  const shownScore = qualityNow.data_score ?? qualityNow.score;
  check((await page.locator('#overall-score').textContent()) === `${shownScore.overall}%`, `overall score = /quality data_score.overall (${shownScore.overall}%)`);
  const hundredths = (p) => Math.round(parseFloat(p) * 100);
  const before = qHistory.filter((r) => r.run_id < qualityNow.last_ingest.run_id).at(-1);
  let expectedChange = 'first run';
  if (before) {
    const d = hundredths(shownScore.overall) - hundredths((before.data_score ?? before.score).overall);
    expectedChange = `${d > 0 ? '+' : d < 0 ? '-' : '±'}${(Math.abs(d) / 100).toFixed(2)} points since run ${before.run_id}`;
  }
  check((await page.locator('#score-change').textContent()) === expectedChange, `score change: ${expectedChange}`);
  const rowTexts = await page.locator('#run-rows .kpi-value').allTextContents();
  const r = qualityNow.rows;
  check(rowTexts.join('/') === [r.processed, r.succeeded, r.failed].map((n) => n.toLocaleString('en-US')).join('/'), `rows processed/succeeded/failed: ${rowTexts.join(' / ')}`);

  // Alerts in words: the data's, then the latest run's own when they differ (after an append).
  const alertTexts = await page.locator('#alerts li .alert-text').allTextContents();
  const sameAlerts = JSON.stringify(qualityNow.alerts) === JSON.stringify(qualityNow.data_alerts);
  const shownAlerts = qualityNow.data_score == null ? qualityNow.alerts
    : sameAlerts ? qualityNow.data_alerts : [...qualityNow.data_alerts, ...qualityNow.alerts];
  const expectedAlerts = shownAlerts.map((a) => `${a.dimension === 'overall' ? 'the overall score' : a.dimension} ${a.value}% is below its minimum of ${a.threshold}%`);
  check(alertTexts.length === expectedAlerts.length && expectedAlerts.every((t) => alertTexts.includes(t)), `alerts listed: ${alertTexts.join(' | ')}`);

  // The dimension bars, row by row in their colour: red below the minimum, green otherwise.
  // The dimensions are the score's fields but `overall`, in the API's order (the bars' order).
  const dims = Object.keys(shownScore).filter((k) => k !== 'overall');
  const alerted = new Set(dims.filter((d) => hundredths(shownScore[d]) < hundredths(qualityNow.thresholds[d])));
  check(dims.some((d) => alerted.has(d)), `the latest run has dimension alerts (${[...alerted]})`);
  const [dl, dt, dr, db] = await plotArea('#dimensions canvas');
  const bars = [];
  for (const [i, dim] of dims.entries()) {
    const y = dt + (db - dt) * (i + 0.5) / dims.length;
    const px = await canvasPixels('#dimensions canvas', { red: RED, green: GREEN }, { x0: dl, x1: dr, y });
    const ok = alerted.has(dim) ? px.red >= 3 && px.green === 0 : px.green >= 20 && px.red === 0;
    bars.push(`${dim} ${alerted.has(dim) ? 'red' : 'green'} (${px.red} red, ${px.green} green px)`);
    check(ok, `dimension bar: ${bars.at(-1)}`);
  }
  const dimBox = await page.locator('#dimensions canvas').boundingBox();
  await page.mouse.move(dimBox.x + dl + 4, dimBox.y + dt + (db - dt) * (dims.indexOf('integrity') + 0.5) / dims.length);
  const dimTip = await page.locator('#dimensions .tooltip').textContent({ timeout: 5000 }).catch(() => '');
  check(dimTip.includes(`Integrity: ${shownScore.integrity}%`) && (!alerted.has('integrity') || dimTip.includes(`Below its minimum of ${qualityNow.thresholds.integrity}%`)), `dimension tooltip: ${dimTip}`);
  await page.mouse.move(0, 0);
  await page.locator('#dimensions .card-actions button').click();
  check((await page.locator('#dimensions tbody tr').count()) === dims.length + 1, 'dimensions data table: overall and each dimension');
  const integrityRow = await page.locator('#dimensions tr[data-dimension="integrity"]').textContent();
  check(integrityRow.includes(`${shownScore.integrity}%`) && integrityRow.includes(`${qualityNow.score.integrity}%`), `dimensions table row: ${integrityRow}`);
  await page.locator('#dimensions .card-actions button').click();
  await page.waitForSelector('#dimensions canvas[data-drawn="true"]');
  check((await page.locator('#dimensions a[download]').getAttribute('href')) === '/quality/history?limit=1&format=csv', 'dimensions CSV link');

  // The trend: pixels in at least two series' colours (taken from the legend), a tooltip with every value.
  const seriesColours = await page.locator('#trend .legend-item .swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor.match(/\d+/g).slice(0, 3).map(Number)));
  check(seriesColours.length === 7, `trend legend names 7 series (${seriesColours.length})`);
  const seriesPx = await canvasPixels('#trend canvas', Object.fromEntries(seriesColours.map((c, i) => [i, near(c)])));
  const drawnSeries = Object.values(seriesPx).filter((n) => n > 40).length;
  check(drawnSeries >= 2, `trend draws several series (${drawnSeries} colours with pixels: ${Object.values(seriesPx)})`);
  const [tl, tt, tr, tb] = await plotArea('#trend canvas');
  const trendBox = await page.locator('#trend canvas').boundingBox();
  const n = qHistory.length;
  await page.mouse.move(trendBox.x + tl + (tr - tl) * (n - 0.5) / n, trendBox.y + (tt + tb) / 2);
  const trendTip = await page.locator('#trend .tooltip').textContent({ timeout: 5000 }).catch(() => '');
  const tipValues = [`Run ${latestRun.run_id}`, `Overall: ${latestRun.score.overall}%`, ...dims.map((d) => `${d[0].toUpperCase()}${d.slice(1)}: ${latestRun.score[d]}%`)];
  check(tipValues.every((v) => trendTip.includes(v)), `trend tooltip of the nearest run: ${trendTip}`);
  await page.mouse.move(0, 0);
  await page.locator('#trend .card-actions button').click();
  check((await page.locator('#trend tbody tr').count()) === qHistory.length, `trend data table: one row per run (${qHistory.length})`);
  await page.locator('#trend .card-actions button').click();
  check((await page.locator('#trend a[download]').getAttribute('href')).startsWith('/quality/history?'), 'trend CSV link');
  const trendCsv = await page.evaluate(async () => (await fetch('/quality/history?limit=100&format=csv')).text());
  check(trendCsv.trim().split('\n').length === qHistory.length + 1, 'the history CSV has one line per run');

  // Rows per run: blue and green bars, a tooltip with the counts, a data table.
  await page.waitForSelector('#trend canvas[data-drawn="true"]');
  const rowsPx = await canvasPixels('#rows canvas', { blue: BLUE, green: GREEN, red: RED });
  const anyFailed = qHistory.some((x) => x.rows.failed > 0);
  check(rowsPx.blue > 200 && rowsPx.green > 200 && (!anyFailed || rowsPx.red > 0), `rows chart drawn (${rowsPx.blue} blue, ${rowsPx.green} green, ${rowsPx.red} red px)`);
  const [rl, rt, rr, rb] = await plotArea('#rows canvas');
  const rowsBox = await page.locator('#rows canvas').boundingBox();
  await page.mouse.move(rowsBox.x + rl + (rr - rl) * 0.5 / n, rowsBox.y + (rt + rb) / 2);
  const rowsTip = await page.locator('#rows .tooltip').textContent({ timeout: 5000 }).catch(() => '');
  check(rowsTip.includes(`Run ${qHistory[0].run_id}`) && rowsTip.includes(`Processed: ${qHistory[0].rows.processed.toLocaleString('en-US')}`), `rows tooltip: ${rowsTip}`);
  await page.mouse.move(0, 0);
  await page.locator('#rows .card-actions button').click();
  check((await page.locator('#rows tbody tr').count()) === qHistory.length, 'rows data table: one row per run');
  await page.locator('#rows .card-actions button').click();

  // The counts that used to be on the reports page.
  check((await page.locator('#quality .kpi').count()) >= 8, `the quality counts panel (${await page.locator('#quality .kpi').count()} figures)`);
  check((await page.locator('#quality').textContent()).includes('Customers only in transactions'), 'the counts panel names its checks');

  // Dark theme: the bars are redrawn on a dark background, still red and green.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(300);
  const darkBg = await page.evaluate(() => Array.from(document.querySelector('#dimensions canvas').getContext('2d').getImageData(2, 2, 1, 1).data.slice(0, 3)));
  const darkPx = await canvasPixels('#dimensions canvas', { red: RED, green: GREEN });
  check(darkBg.every((v) => v < 60) && darkPx.red > 100 && darkPx.green > 100, `dark theme redraws the dimensions (background ${darkBg}, ${darkPx.red} red, ${darkPx.green} green px)`);
  if (shots) {
    await page.screenshot({ path: join(shots, 'quality-dark.png'), fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (shots) {
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, 'quality-light.png'), fullPage: true });
  }

  // Back and forward between the reports, the runs and the quality page.
  const navIngestsAgain = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Ingests' });
  await navIngestsAgain.click();
  await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
  await page.goBack();
  await page.waitForFunction(() => location.pathname === '/data-quality');
  await drawnQuality();
  check((await page.locator('#overall-score').textContent()) === `${shownScore.overall}%`, 'back from /runs: the quality page again, charts drawn');
  await page.goBack();
  await page.waitForFunction(() => location.pathname === '/');
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 30000 });
  check(true, 'back again: the reports page');
  await page.goForward();
  await page.waitForFunction(() => location.pathname === '/data-quality');
  await drawnQuality();
  check(true, 'forward: the quality page');
  await page.goForward();
  await page.waitForFunction(() => location.pathname === '/runs');
  await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
  check(await page.evaluate(() => window.__stillTheSamePage === true), 'forward again: /runs, all without a reload');

  // A deep link.
  await page.goto(`${base}/data-quality`, { waitUntil: 'load' });
  await drawnQuality();
  check((await page.locator('#overall-score').textContent()) === `${(qualityNow.data_score ?? qualityNow.score).overall}%` && await navQuality.getAttribute('aria-current') === 'page', 'a deep link to /data-quality opens the quality page');

  // A single run: "first run", and the trend still shows its points.
  const isHistory = (url) => url.pathname === '/quality/history';
  const isQuality = (url) => url.pathname === '/quality';
  await page.route(isHistory, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ runs: [{ ...latestRun, run_id: qualityNow.last_ingest.run_id }] }) }));
  await page.goto(`${base}/data-quality`, { waitUntil: 'load' });
  await drawnQuality();
  check((await page.locator('#score-change').textContent()) === 'first run', 'one run in the history: "first run"');
  const overallColour = seriesColours[0];
  const single = await canvasPixels('#trend canvas', { overall: near(overallColour), any: seriesColours.map(near).join(' || ') });
  check(single.overall > 20 && single.any > 60, `a single run draws points (${single.overall} px of the overall colour, ${single.any} of any series)`);
  await page.locator('#trend .card-actions button').click();
  check((await page.locator('#trend tbody tr').count()) === 1, 'a single run: one table row');
  await page.unroute(isHistory);

  // The history fails: its sections show the error and retry; the score stays.
  await page.route(isHistory, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"database_unavailable","message":"the database is unavailable"}' }));
  await page.goto(`${base}/data-quality`, { waitUntil: 'load' });
  await page.waitForSelector('#trend .error-banner', { timeout: 30000 });
  const trendBanner = await page.locator('#trend .error-banner').textContent();
  check(trendBanner.includes('quality history') && trendBanner.includes('503'), `trend error banner: ${trendBanner}`);
  check((await page.locator('#overall-score').textContent()) === `${(qualityNow.data_score ?? qualityNow.score).overall}%`, 'the score shows without the history');
  await page.unroute(isHistory);
  await page.locator('#trend .error-banner button').click();
  await drawnQuality();
  check((await page.locator('#score-change').textContent()) === expectedChange, 'retry loads the history (trend drawn, change shown)');

  // Before the first ingest: empty states, not errors.
  await page.route(isQuality, (route) => route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"no_data","message":"no data has been loaded yet"}' }));
  await page.route(isHistory, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{"runs":[]}' }));
  await page.goto(`${base}/data-quality`, { waitUntil: 'load' });
  await page.waitForSelector('#score .empty', { timeout: 30000 });
  check((await page.locator('#score .empty').textContent()).includes('No quality figures yet') && (await page.locator('.error-banner').count()) === 0, 'no data yet: empty states, no error banner');
  check((await page.locator('#trend .empty').count()) === 1 && (await page.locator('canvas').count()) === 0, 'no data yet: no charts');
  await page.unroute(isQuality);
  await page.unroute(isHistory);

  // The new pages in light and dark, and on a phone: no sideways scrolling there.
  const visit = async (path, name) => {
    await page.goto(`${base}${path}`, { waitUntil: 'load' });
    await page.waitForSelector('#runs tbody tr, #rejections tbody tr, #trend canvas[data-drawn="true"]', { timeout: 30000 });
    if (shots) {
      await page.waitForTimeout(200);
      await page.screenshot({ path: join(shots, name), fullPage: true });
    }
  };
  if (shots) {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await visit('/runs', `runs-${scheme}.png`);
      await visit(`/runs/${target.id}`, `run-${scheme}.png`);
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }
  await page.setViewportSize({ width: 390, height: 900 });
  for (const [path, name] of [['/runs', 'runs-phone.png'], [`/runs/${target.id}`, 'run-phone.png'], ['/data-quality', 'quality-phone.png']]) {
    await visit(path, name);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const clipped = await page.evaluate(() => [...document.querySelectorAll('.table-wrap')].filter((w) => w.scrollWidth > w.clientWidth + 1).length);
    check(overflow <= 0 && clipped === 0, `${path} fits a 390 px phone (page overflow ${overflow} px, ${clipped} tables scrolling sideways)`);
  }
  await page.setViewportSize({ width: 1280, height: 1600 });

  // No dashboard route shadows the API.
  const api = await page.evaluate(async () => (await fetch('/quality')).headers.get('content-type'));
  check(api.includes('application/json'), '/quality is still the API');
  const historyType = await page.evaluate(async () => (await fetch('/quality/history')).headers.get('content-type'));
  check(historyType.includes('application/json'), '/quality/history is still the API');
  const pageType = await page.evaluate(async () => (await fetch('/data-quality')).headers.get('content-type'));
  check(pageType.includes('text/html'), '/data-quality is the dashboard');
  for (const path of ['/ingests', `/ingests/1`, '/ingests/1/rejections']) {
    const type = await page.evaluate(async (p) => (await fetch(p)).headers.get('content-type'), path);
    check(type.includes('application/json'), `${path} is still the API`);
  }
  await recurringChecks({ page, base, check, shots });
  await a11yChecks(page, base, check);
  await drillDownChecks({ page, base, check });
  check(errors.length === 0, `no page errors ${errors.join(' | ')}`);
} catch (e) {
  console.log(`FAIL ${e}`);
  failures++;
} finally {
  await context.close();
}

if (authBase) {
  await authChecks();
}

if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log('dashboard e2e: all checks passed');

// ---- A server with tokens: the sign-in, roles, the sign-out, the upload.
async function authChecks() {
  const reader = process.env.E2E_READER_TOKEN;
  const admin = process.env.E2E_ADMIN_TOKEN;
  const uploadDir = process.env.E2E_UPLOAD_DIR;
  const ctx = await launch();
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const api = (path) => page.evaluate(async (p) => {
    const res = await fetch(p);
    return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : null };
  }, path);
  const signIn = async (token) => {
    await page.locator('#token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  try {
    check(/^rak_[0-9a-f]{64}$/.test(reader ?? '') && /^rak_[0-9a-f]{64}$/.test(admin ?? ''), 'auth: the CLI printed a reader and an admin token');

    // The API documentation works offline: every request to another host is refused.
    const host = new URL(authBase).host;
    const elsewhere = [];
    await page.route((url) => url.host !== host, (route) => { elsewhere.push(route.request().url()); return route.abort(); });
    await page.goto(`${authBase}/docs`, { waitUntil: 'load' });
    await page.waitForSelector('.opblock-summary-path', { timeout: 30000 });
    await page.getByText('/reports/top-users', { exact: true }).first().waitFor({ timeout: 30000 });
    check(new URL(page.url()).pathname === '/docs/', `/docs redirects to ${new URL(page.url()).pathname}`);
    const operations = await page.locator('.opblock-summary-path').allTextContents();
    check(operations.some((p) => p.includes('/reports/top-users')) && operations.some((p) => p.includes('/ingests')), `Swagger UI lists the operations offline (${operations.length}; requests elsewhere refused: ${elsewhere.length})`);
    await page.unrouteAll();

    // Nobody signed in: the sign-in page, the reports refused.
    await page.goto(`${authBase}/runs`, { waitUntil: 'load' });
    await page.waitForSelector('#sign-in', { timeout: 30000 });
    check((await page.locator('#sign-in-notice').count()) === 0, 'first visit: the sign-in page, with no notice');
    check((await page.getByRole('navigation', { name: 'Pages' }).count()) === 0 && (await page.locator('#runs, #upload').count()) === 0, 'nothing but the sign-in before it');
    check((await api('/reports/meta')).status === 401, 'the API answers 401 without a session');
    check((await page.locator('#token').getAttribute('type')) === 'password', 'the token field is a password field');
    if (shots) await page.screenshot({ path: join(shots, 'auth-signin.png'), fullPage: true });

    // A wrong token: the API's message, still signed out, the field emptied.
    await signIn(`rak_${'0'.repeat(64)}`);
    await page.waitForSelector('#sign-in-error', { timeout: 30000 });
    const wrong = await page.locator('#sign-in-error').textContent();
    check(wrong.includes('invalid or revoked token'), `a wrong token shows the API's message: ${wrong}`);
    check((await page.locator('#token').inputValue()) === '' && (await page.locator('#user').count()) === 0, 'a wrong token: the field is emptied, nobody signed in');

    // The reader: reports, no upload controls, a session cookie the page cannot read.
    await signIn(reader);
    await page.waitForSelector('#user', { timeout: 30000 });
    check((await page.locator('#user .user-name').textContent()) === 'e2e-reader' && (await page.locator('#user-role').textContent()) === 'reader', 'the header names the reader and the role');
    check(new URL(page.url()).pathname === '/runs', 'after the sign-in: the page asked for');
    await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
    check((await page.locator('#upload, input[type="file"]').count()) === 0, 'a reader sees no upload controls');
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Reports' }).click();
    await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 30000 });
    await page.waitForSelector('#users tbody tr', { timeout: 30000 });
    check((await page.locator('.error-banner').count()) === 0, 'the reader sees the reports, without errors');
    check((await page.locator('#upload, input[type="file"]').count()) === 0, 'no upload controls on the reports page either');
    const secrets = await page.evaluate(() => ({ cookie: document.cookie, storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }), html: document.documentElement.outerHTML }));
    check(!secrets.cookie.includes('ra_session'), `document.cookie has no session cookie (HttpOnly): "${secrets.cookie}"`);
    check(![reader, admin].some((t) => secrets.storage.includes(t) || secrets.html.includes(t)), 'the token is in neither storage nor the page');
    const cookies = await ctx.cookies(authBase);
    const session = cookies.find((c) => c.name === 'ra_session');
    check(!!session && session.httpOnly && session.sameSite === 'Strict', `the browser holds the session cookie: HttpOnly, SameSite=${session?.sameSite}`);
    const forbidden = await page.evaluate(async () => {
      const form = new FormData();
      form.append('transactions', new Blob(['x']), 'transactions.csv');
      form.append('mode', 'append');
      return (await fetch('/ingests', { method: 'POST', body: form })).status;
    });
    check(forbidden === 403, `the API refuses a reader's upload (${forbidden})`);
    if (shots) await page.screenshot({ path: join(shots, 'auth-reader.png'), fullPage: true });

    // A session that ends while the page is open (a report answers 401): the
    // sign-in page, saying why in the API's words.
    const isTopUsers = (url) => url.pathname === '/reports/top-users';
    await page.route(isTopUsers, (route) => route.fulfill({ status: 401, contentType: 'application/problem+json', headers: { 'www-authenticate': 'Bearer realm="revenue-analytics", error="invalid_token"' },
      body: JSON.stringify({ type: 'urn:revenue-analytics:problem:unauthorized', title: 'Unauthorized', status: 401, detail: 'the session expired: sign in again', error: 'unauthorized', message: 'the session expired: sign in again' }) }));
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('#sign-in-notice', { timeout: 30000 });
    check((await page.locator('#sign-in-notice').textContent()) === 'the session expired: sign in again', 'a 401 while signed in: the sign-in page says the session expired');
    await page.unroute(isTopUsers);
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('#users tbody tr', { timeout: 30000 });
    check((await page.locator('#user-role').textContent()) === 'reader', 'the cookie still valid: a reload is signed in again');

    // Sign out: back to the sign-in, which says so; the session no longer works.
    await page.locator('#sign-out').click();
    await page.waitForSelector('#sign-in', { timeout: 30000 });
    check((await page.locator('#sign-in-notice').textContent()) === 'You signed out.', 'signing out returns to the sign-in, which says so');
    check((await api('/session')).status === 401 && !(await ctx.cookies(authBase)).some((c) => c.name === 'ra_session'), 'signed out: the cookie is gone, /session answers 401');

    // The admin: the upload form on the runs page.
    await page.goto(`${authBase}/runs`, { waitUntil: 'load' });
    await page.waitForSelector('#sign-in', { timeout: 30000 });
    await signIn(admin);
    await page.waitForSelector('#upload-form', { timeout: 30000 });
    check((await page.locator('#user-role').textContent()) === 'admin', 'the header names the admin role');
    await page.waitForSelector('#runs tbody tr', { timeout: 30000 });
    const runsBefore = (await api('/ingests')).body.runs.map((r) => r.id);
    check((await page.locator('#upload-form input[type="file"]').count()) === 3 && (await page.locator('#upload-mode').inputValue()) === 'replace' && !(await page.locator('#upload-dry-run').isChecked()), 'the admin sees three files, replace mode, no dry run');

    // Replace needs the three files: told before anything is sent.
    await page.setInputFiles('#upload-products', join(uploadDir, 'products.csv'));
    await page.locator('#upload-submit').click();
    await page.waitForSelector('#upload-invalid', { timeout: 5000 });
    check((await page.locator('#upload-invalid').textContent()).includes('A replace needs the three files'), 'a replace with one file is refused in the form');

    // The API's refusals (another ingest running, too large) are shown in its words.
    const isUpload = (url) => url.pathname === '/ingests';
    for (const [status, error, message] of [[409, 'conflict', 'another ingest is running (run 1): upload again when it has ended'], [413, 'payload_too_large', "the upload is larger than this server's limit of 1 MiB (--max-upload-mb)"]]) {
      await page.route(isUpload, (route) => route.request().method() === 'POST'
        ? route.fulfill({ status, contentType: 'application/problem+json', body: JSON.stringify({ type: `urn:revenue-analytics:problem:${error}`, title: 'x', status, detail: message, error, message }) })
        : route.continue());
      await page.setInputFiles('#upload-transactions', join(uploadDir, 'transactions.csv'));
      await page.setInputFiles('#upload-users', join(uploadDir, 'users.csv'));
      await page.locator('#upload-submit').click();
      await page.waitForSelector(`#upload-error[data-status="${status}"]`, { timeout: 30000 });
      const text = await page.locator('#upload-error').textContent();
      check(text.includes(message), `HTTP ${status} shown: ${text}`);
      await page.unroute(isUpload);
    }

    // A refused upload, then the admin's "load anyway": the refusal in words the
    // dashboard's user can act on, its figures, a confirmation, a forced run.
    const refusedDir = process.env.E2E_REFUSED_DIR;
    check(!!refusedDir, 'auth: E2E_REFUSED_DIR names an export the guard rails refuse');
    if (refusedDir) {
      await page.selectOption('#upload-mode', 'append');
      for (const part of ['products', 'transactions', 'users']) await page.setInputFiles(`#upload-${part}`, join(refusedDir, `${part}.csv`));
      await page.locator('#upload-submit').click();
      await page.waitForSelector('#upload-result[data-status="refused"]', { timeout: 60000 });
      const refusal = await page.locator('#upload-result').textContent();
      check(refusal.includes("the server's max-reject-pct") && !refusal.includes('--'), `the refusal names the server's setting, not a flag: ${refusal}`);
      check(/transactions\.csv: 21 rows read, 18 would load, 3 rejected/.test(await page.locator('#upload-force').textContent()), 'the offer to load anyway shows the refusal\'s figures');
      await page.locator('#upload-force-start').click();
      const question = await page.locator('#upload-force-question').textContent();
      check(question.includes('The files will be added to the loaded data') && question.includes('Load anyway?'), `loading anyway asks first: ${question}`);
      await page.locator('#upload-force-cancel').click();
      check((await page.locator('#upload-force-question').count()) === 0 && (await page.locator('#upload-force-start').count()) === 1, 'cancel leaves the data alone and the offer open');
      await page.locator('#upload-force-start').click();
      await page.locator('#upload-force-yes').click();
      await page.waitForSelector('#upload-result[data-status="succeeded"]', { timeout: 60000 });
      const forcedId = Number((await page.locator('#upload-result a').getAttribute('href')).split('/').pop());
      const forcedRun = (await api(`/ingests/${forcedId}`)).body;
      check(forcedRun.forced === true && forcedRun.mode === 'append' && forcedRun.status === 'succeeded', `run ${forcedId}: recorded as a forced append (${forcedRun.status}, forced ${forcedRun.forced})`);
      await page.waitForSelector(`#runs tr[data-run="${forcedId}"]`, { timeout: 30000 });
      check((await page.locator(`#runs tr[data-run="${forcedId}"]`).textContent()).includes('(forced)'), 'the run history marks it forced');
      // A fresh form for the real upload.
      await page.reload({ waitUntil: 'load' });
      await page.waitForSelector('#upload-form', { timeout: 30000 });
      for (const part of ['products', 'transactions', 'users']) await page.setInputFiles(`#upload-${part}`, join(uploadDir, `${part}.csv`));
    }

    // The real upload: three files, replace. Record every status line shown on the way.
    await page.evaluate(() => {
      window.__uploadSteps = [];
      new MutationObserver(() => {
        const s = document.querySelector('#upload-status');
        if (s && window.__uploadSteps.at(-1) !== s.textContent) window.__uploadSteps.push(s.textContent);
      }).observe(document.querySelector('#upload'), { subtree: true, childList: true, characterData: true });
    });
    await page.locator('#upload-submit').click();
    // The form while it works (the run may be over before the picture is taken).
    await page.waitForSelector('#upload-status, #upload-result', { timeout: 30000 });
    if (shots) await page.screenshot({ path: join(shots, 'auth-admin-upload.png'), fullPage: true });
    await page.waitForSelector('#upload-result', { timeout: 180000 });
    const result = await page.locator('#upload-result').getAttribute('data-status');
    const steps = await page.evaluate(() => window.__uploadSteps);
    check(result === 'succeeded', `the uploaded run succeeded (${await page.locator('#upload-result').textContent()})`);
    check(steps.length > 0, `the form showed its progress: ${steps.join(' | ')}`);
    const runId = Number((await page.locator('#upload-result a').getAttribute('href')).split('/').pop());
    const detail = (await api(`/ingests/${runId}`)).body;
    const loaded = detail.files.reduce((n, f) => n + f.loaded, 0);
    const rejected = detail.files.reduce((n, f) => n + f.rejected, 0);
    check(!runsBefore.includes(runId) && detail.status === 'succeeded' && detail.mode === 'replace' && detail.requested_by === 'token:e2e-admin', `run ${runId}: a replace by token:e2e-admin (${detail.status})`);
    check((await page.locator('#upload-result').textContent()).includes(`${loaded.toLocaleString('en-US')} rows loaded, ${rejected.toLocaleString('en-US')} rejected`), `the result shows the rows loaded and rejected (${loaded}, ${rejected})`);
    check(detail.files.map((f) => f.file).sort().join() === 'products.csv,transactions.csv,users.csv', 'the run read the three files');
    // The run list follows at once (the data version rose): no reload.
    await page.waitForSelector(`#runs tr[data-run="${runId}"] .badge.good`, { timeout: 30000 });
    check(true, 'the run history lists the new run without a reload');
    if (shots) await page.screenshot({ path: join(shots, 'auth-upload-done.png'), fullPage: true });

    // The figures shown afterwards are the API's (fetched in the page, with the cookie).
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Reports' }).click();
    await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 30000 });
    await page.waitForSelector('#users tbody tr', { timeout: 30000 });
    const jsonOf = async (sel) => (await api((await page.locator(`${sel} a[download]`).getAttribute('href')).replace(/[?&]format=csv/, ''))).body;
    const users = await jsonOf('#users');
    const shownUsers = await page.locator('#users tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    const plain = (t) => t.replace(/[^0-9.-]/g, '');
    check(shownUsers.length === users.users.length && users.users.every((u, i) => shownUsers[i][1] === u.customer_id && plain(shownUsers[i][3]) === u.total_spending && plain(shownUsers[i][4]) === String(u.transactions)),
      `top customers = the API's (${users.users.length} rows, first ${users.users[0]?.customer_id} ${users.users[0]?.total_spending}; shown first: ${shownUsers[0]?.join(' / ')})`);
    const products = await jsonOf('#products');
    const topShown = await page.locator('#top-product').textContent();
    check(topShown === products.products[0].product, `top product = the API's (${products.products[0].product}; shown: ${topShown})`);
    await page.locator('#monthly .card-actions button').click();
    const monthly = await jsonOf('#monthly');
    check((await page.locator('#monthly tbody tr').count()) === monthly.months.length, `monthly table: one row per month of the API (${monthly.months.length})`);
    const quality = (await api('/quality')).body;
    check(quality.last_ingest.run_id === runId, `/quality describes the uploaded run (${quality.last_ingest.run_id})`);
    const scoreShown = await page.locator('#quality-summary-score').textContent();
    const dataOverall = (quality.data_score ?? quality.score).overall;
    check(scoreShown === `${dataOverall}%`, `the quality card shows the data's score after the upload (${dataOverall}%; shown: ${scoreShown})`);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Data quality' }).click();
    await page.waitForSelector('#dimensions canvas[data-drawn="true"]', { timeout: 30000 });
    await page.locator('#dimensions .card-actions button').click();
    const minimums = await page.locator('#dimensions td.minimum').allTextContents();
    const dims = Object.keys(quality.thresholds ?? {});
    check(!!quality.thresholds && minimums.length === dims.length && dims.every((d, i) => minimums[i].startsWith(`${quality.thresholds[d]}%`)), `every dimension's minimum from /quality's thresholds: ${minimums.join(' | ')}`);
    // The recurring-revenue page on the uploaded data (the real export when it is beside the checkout).
    await recurringHeadlineChecks({ page, check, fetchJson: async (path) => (await api(path)).body });
    check(!(await page.evaluate(() => document.cookie)).includes('ra_session'), 'still no session cookie in document.cookie');

    // A session cookie the open-mode server does not know (cookies ignore ports): it is dropped, and that server opens.
    if (base) {
      await page.goto(`${base}/`, { waitUntil: 'load' });
      await page.waitForSelector('#open-mode, #sign-in', { timeout: 30000 });
      check((await page.locator('#open-mode').count()) === 1, 'another server on this host with a foreign cookie: open mode, not a dead-end sign-in');
    }
    check(errors.length === 0, `auth: no page errors ${errors.join(' | ')}`);
  } catch (e) {
    console.log(`FAIL auth: ${e}`);
    failures++;
  } finally {
    await ctx.close();
  }
}
