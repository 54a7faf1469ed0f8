// End-to-end checks of the recurring-revenue page (/recurring-revenue), run by
// dashboard.mjs on the open-mode server: the figures shown are the API's for
// the same currency, a movement opens its customers (from the chart and from
// the keyboard's table), the cohort heat map follows its toggle, and the page
// logs no console error.
import { join } from 'node:path';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthLabel = (m) => `${MONTHS[Number(m.slice(5)) - 1]} ${m.slice(0, 4)}`;
// As the dashboard's format::money: the API's exact decimal string, grouped, with the symbol.
const money = (amount, currency) => {
  const symbol = { usd: '$', eur: '€', gbp: '£', jpy: '¥' }[currency] ?? `${currency.toUpperCase()} `;
  const negative = amount.startsWith('-');
  const [int, frac] = (negative ? amount.slice(1) : amount).split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}${symbol}${grouped}${frac === undefined ? '' : `.${frac}`}`;
};
const KINDS = ['new', 'expansion', 'contraction', 'churn', 'reactivation'];
const LABELS = { new: 'New business', expansion: 'Expansion', contraction: 'Contraction', churn: 'Churn', reactivation: 'Reactivation' };

export async function recurringChecks({ page, base, check, shots }) {
  const consoleErrors = [];
  const onConsole = (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); };
  page.on('console', onConsole);
  const api = (path) => page.evaluate(async (p) => (await fetch(p)).json(), path);
  const drawn = async () => {
    for (const id of ['mrr', 'movements', 'churn', 'retention', 'quick-ratio']) {
      await page.waitForSelector(`#${id} canvas[data-drawn="true"]`, { timeout: 30000 });
    }
    await page.waitForSelector('#saas-mrr', { timeout: 30000 });
    await page.waitForSelector('#cohorts tbody tr', { timeout: 30000 });
  };
  const customerRows = () => page.locator('#movement-customers tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.customer));
  // The customers the API lists for a movement, compared with the rows shown.
  const sameCustomers = async (currency, month, kind, what) => {
    const list = await api(`/reports/saas/movements?currency=${currency}&month=${month}&kind=${kind}&limit=25`);
    await page.waitForFunction((n) => document.querySelectorAll('#movement-customers tbody tr').length === n, list.customers.length, { timeout: 30000 });
    const shown = await customerRows();
    check(shown.length === Math.min(list.total, 25) && list.customers.every((c, i) => shown[i] === c.customer_id),
      `${what}: ${shown.length} customers listed = the API's (${list.total} in all, first ${list.customers[0]?.customer_id})`);
    const heading = await page.locator('#movement-customers h2').textContent();
    check(heading === `${LABELS[kind]} in ${monthLabel(month)}`, `${what}: heading "${heading}"`);
    return list;
  };

  const ctx = { page, base, check, shots, api, drawn, sameCustomers, text: async (sel) => (await page.locator(sel).textContent())?.trim() };
  await openFromTheNavigation(ctx);
  const currency = await page.locator('#saas-currency').inputValue();
  const report = await api(`/reports/saas/mrr?currency=${currency}`);
  await headlineFigures(ctx, currency, report);
  const withCount = await movementFromTheTable(ctx, currency, report);
  const biggest = await movementFromTheChart(ctx, currency, report, withCount);
  await cohortHeatMap(ctx, currency);
  await sharedLinkAndCurrencies(ctx, currency, biggest);
  await themeAndPhone(ctx);
  const type = await page.evaluate(async () => (await fetch('/recurring-revenue')).headers.get('content-type'));
  check(type.includes('text/html'), '/recurring-revenue is the dashboard');
  page.off('console', onConsole);
  check(consoleErrors.length === 0, `recurring revenue: no console errors ${consoleErrors.join(' | ')}`);
}

/// The page on the data the server holds now (in the auth part: the user's
/// real export, uploaded by the admin): its headline and caveats equal
/// /reports/saas/mrr for the currency it opens with.
export async function recurringHeadlineChecks({ page, check, fetchJson }) {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Recurring revenue' }).click();
  for (const id of ['mrr', 'churn']) await page.waitForSelector(`#${id} canvas[data-drawn="true"]`, { timeout: 60000 });
  await page.waitForSelector('#saas-mrr', { timeout: 60000 });
  const currency = await page.locator('#saas-currency').inputValue();
  const report = await fetchJson(`/reports/saas/mrr?currency=${currency}`);
  const text = async (sel) => (await page.locator(sel).textContent())?.trim();
  await headlineFigures({ page, check, text }, currency, report);
}

async function openFromTheNavigation(ctx) {
  const { page, base, check, drawn } = ctx;
  await page.setViewportSize({ width: 1280, height: 1600 });
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 30000 });
  await page.evaluate(() => { window.__stillTheSamePage = true; });
  const nav = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Recurring revenue' });
  check(await nav.getAttribute('href') === '/recurring-revenue', 'nav link "Recurring revenue" is a real link to /recurring-revenue');
  await nav.click();
  await drawn();
  check(await page.evaluate(() => window.__stillTheSamePage === true), 'the recurring-revenue nav link navigates inside the app');
  check(await nav.getAttribute('aria-current') === 'page' && await page.title() === 'Recurring revenue · Revenue analytics', 'nav marks the page; title names it');
  check((await page.locator('.error-banner').count()) === 0, 'no error banner on the recurring-revenue page');
}

async function headlineFigures(ctx, currency, report) {
  const { page, check, text } = ctx;
  // The headline figures of the last closed month = the API's, for the currency selected.
  const last = report.months.at(-1);
  const before = report.months.at(-2);
  check(report.currency === currency && report.months.length >= 2, `currency ${currency}: ${report.months.length} closed months`);
  check(await text('#saas-mrr') === money(last.mrr, currency), `headline MRR = the API's (${last.month}: ${last.mrr}; shown ${await text('#saas-mrr')})`);
  check(await text('#saas-arr') === money(last.arr, currency), `headline ARR = the API's (${last.arr})`);
  check(await text('#saas-customers') === last.customers.toLocaleString('en-US'), `headline customers = the API's (${last.customers})`);
  check(await text('#saas-arpa') === (last.arpa ? money(last.arpa, currency) : '–'), `headline ARPA = the API's (${last.arpa})`);
  const d = last.customers - before.customers;
  const expected = `${d > 0 ? '+' : d === 0 ? '±' : ''}${d.toLocaleString('en-US')} since ${monthLabel(before.month)}`;
  check(await text('#saas-customers-change') === expected, `customers change: ${expected}`);
  check((await page.locator('#saas-headline h2').textContent()).endsWith(monthLabel(last.month)), 'the headline names the last closed month');

  // Caveats where they apply.
  const src = last.mrr_by_interval_source;
  const assumed = Number(src.assumed_annual) + Number(src.assumed_monthly);
  if (assumed > 0) check((await page.locator('#saas-headline .caveat').textContent()).includes('rests on an assumption'), 'the assumed share of MRR is said next to the figures');
  if (report.months.some((m) => m.warm_up)) check((await page.locator('#mrr .caveat', { hasText: 'Warm-up' }).count()) === 1, 'warm-up months are noted under the MRR chart');
  const annual = report.months.some((m) => Object.keys(m.mrr_by_interval_months).some((k) => Number(k) >= 12 && Number(m.mrr_by_interval_months[k]) > 0));
  if (annual && report.months.length < 13) check((await page.locator('#churn .caveat', { hasText: 'Annual churn is not observable' }).count()) === 1, 'annual churn noted as not observable');
}

async function movementFromTheTable(ctx, currency, report) {
  const { page, check, sameCustomers, text } = ctx;
  // A movement's count in the data table = the API's; its button lists its customers.
  const withCount = report.months.slice(1).flatMap((m) => KINDS.map((k) => ({ month: m.month, kind: k, n: m.movement_customers[k], amount: m.movements[k] }))).filter((x) => x.n > 0);
  check(withCount.length > 0, `movements with customers: ${withCount.length}`);
  const target = withCount.find((x) => x.kind === 'churn') ?? withCount[0];
  await page.locator('#movements .card-actions button').click();
  const button = page.locator(`#movements button[data-month="${target.month}"][data-kind="${target.kind}"]`);
  const buttonText = await button.textContent();
  check(buttonText === `${money(target.amount, currency)} (${target.n.toLocaleString('en-US')})`, `movement ${target.kind} ${target.month}: "${buttonText}" = the API's ${target.amount} (${target.n} customers)`);
  check((await page.locator('#movements tbody button').count()) === withCount.length, `one button per movement with customers (${withCount.length})`);
  await button.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(({ m, k }) => location.search.includes(`month=${m}`) && location.search.includes(`kind=${k}`), { m: target.month, k: target.kind });
  const list = await sameCustomers(currency, target.month, target.kind, 'from the table (keyboard)');
  const csv = await page.locator('#movement-customers a[download]').getAttribute('href');
  const csvLines = (await page.evaluate(async (u) => (await fetch(u)).text(), csv)).trim().split('\n');
  check(csv.includes(`month=${target.month}`) && csv.includes(`kind=${target.kind}`) && csvLines.length === list.total + 1, `customers CSV (${csv}): ${csvLines.length - 1} rows`);
  check(!(await page.locator('body').textContent()).includes('@'), 'no e-mail address on the recurring-revenue page');

  return withCount;
}

async function movementFromTheChart(ctx, currency, report, withCount) {
  const { page, check, drawn, sameCustomers } = ctx;
  // A click on a bar of the chart: the segment of new business (or the largest movement) of a month.
  await page.locator('#movements .card-actions button').click();
  await page.waitForSelector('#movements canvas[data-drawn="true"]');
  const canvas = page.locator('#movements canvas');
  const [l, t, r, b] = (await canvas.getAttribute('data-plot-area')).split(' ').map(Number);
  const [lo, hi] = (await canvas.getAttribute('data-y-range')).split(' ').map(Number);
  const news = withCount.filter((x) => x.kind === 'new');
  const biggest = [...(news.length ? news : withCount)].sort((p, q) => Number(q.amount) - Number(p.amount))[0];
  const index = report.months.findIndex((m) => m.month === biggest.month);
  const down = ['contraction', 'churn'].includes(biggest.kind);
  const value = (down ? -1 : 1) * Number(biggest.amount) / 2;
  const box = await canvas.boundingBox();
  const x = l + (r - l) * (index + 0.3) / report.months.length;
  const y = t + (hi - value) / (hi - lo) * (b - t);
  await page.mouse.move(box.x + x, box.y + y);
  const tip = await page.locator('#movements .tooltip').textContent({ timeout: 5000 }).catch(() => '');
  const tipCount = report.months[index].movement_customers[biggest.kind];
  check(tip.includes(`${LABELS[biggest.kind]}: ${money(biggest.amount, currency)} (${tipCount.toLocaleString('en-US')} customers)`), `movements tooltip: ${tip.replace(/\n/g, ' | ')}`);
  await page.mouse.click(box.x + x, box.y + y);
  await page.waitForFunction(({ m, k }) => location.search.includes(`month=${m}`) && location.search.includes(`kind=${k}`), { m: biggest.month, k: biggest.kind }, { timeout: 10000 });
  await sameCustomers(currency, biggest.month, biggest.kind, `from a click on the ${biggest.kind} bar of ${biggest.month}`);

  return biggest;
}

async function cohortHeatMap(ctx, currency) {
  const { page, check, api } = ctx;
  // The cohort heat map: one row per cohort, the toggle switches the measure (in the URL).
  const cohorts = await api(`/reports/saas/cohorts?currency=${currency}`);
  check((await page.locator('#cohorts tbody tr').count()) === cohorts.cohorts.length, `one heat-map row per cohort (${cohorts.cohorts.length})`);
  const first = cohorts.cohorts[0];
  const lastCell = first.cells.at(-1);
  const cellText = () => page.locator(`#cohorts tr[data-cohort="${first.cohort}"] td[data-since="${lastCell.months_since}"]`).textContent();
  check(await cellText() === `${lastCell.customer_retention_pct}%`, `cohort ${first.cohort} month ${lastCell.months_since}: ${lastCell.customer_retention_pct}% of customers`);
  await page.getByRole('button', { name: 'MRR retained' }).click();
  await page.waitForFunction(() => location.search.includes('cohorts=mrr'));
  await page.waitForFunction((v) => document.querySelector(`#cohorts tbody tr td[data-since="${v}"]`) !== null, lastCell.months_since);
  check(await cellText() === `${lastCell.mrr_retention_pct}%`, `MRR retention: ${lastCell.mrr_retention_pct}%`);
}

async function sharedLinkAndCurrencies(ctx, currency, biggest) {
  const { page, check, api, drawn, sameCustomers, text } = ctx;
  // A shared link reopens the movement listed and the measure; back walks the URL states.
  const shared = page.url();
  await page.goto(shared, { waitUntil: 'load' });
  await drawn();
  await sameCustomers(currency, biggest.month, biggest.kind, 'a shared link');
  check(await page.locator('#movement-kind').inputValue() === biggest.kind && await page.locator('#movement-month').inputValue() === biggest.month, 'the movement selects show the movement of the link');
  check((await page.getByRole('button', { name: 'MRR retained' }).getAttribute('aria-pressed')) === 'true', 'the link keeps the cohort measure');

  // Another currency, when the data has one: its own figures.
  const meta = await api('/reports/meta');
  const other = meta.currencies.map((c) => c.currency).find((c) => c !== currency);
  if (other) {
    await page.selectOption('#saas-currency', other);
    await page.waitForFunction((c) => location.search.includes(`currency=${c}`), other);
    const otherReport = await page.evaluate(async (c) => { const res = await fetch(`/reports/saas/mrr?currency=${c}`); return res.ok ? res.json() : null; }, other);
    if (otherReport?.months.length) {
      const o = otherReport.months.at(-1);
      await page.waitForFunction((v) => document.querySelector('#saas-customers')?.textContent === v, o.customers.toLocaleString('en-US'), { timeout: 30000 }).catch(() => {});
      check(await text('#saas-mrr') === money(o.mrr, other) && await text('#saas-customers') === o.customers.toLocaleString('en-US'), `currency ${other}: headline = the API's (${o.mrr}, ${o.customers} customers)`);
    }
    await page.goBack();
    await page.waitForFunction((c) => !location.search.includes(`currency=${c}`), other);
  }
}

async function themeAndPhone(ctx) {
  const { page, check, shots } = ctx;
  // Dark theme: the charts are redrawn on a dark background.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(300);
  const bg = await page.evaluate(() => Array.from(document.querySelector('#mrr canvas').getContext('2d').getImageData(2, 2, 1, 1).data.slice(0, 3)));
  check(bg.every((v) => v < 60), `dark theme redraws the MRR chart (background ${bg})`);
  if (shots) await page.screenshot({ path: join(shots, 'recurring-dark.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  if (shots) {
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, 'recurring-light.png'), fullPage: true });
  }
  await page.setViewportSize({ width: 390, height: 900 });
  await page.waitForTimeout(300);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `/recurring-revenue fits a 390 px phone (page overflow ${overflow} px)`);
  if (shots) await page.screenshot({ path: join(shots, 'recurring-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 1600 });
}
