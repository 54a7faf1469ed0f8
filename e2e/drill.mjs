// End-to-end checks of the drill-down, run by dashboard.mjs on the open-mode
// server: a click on a month of the monthly chart opens that month, whose
// figures are the API's, and so does the keyboard (Tab to the chart, the
// arrows, Enter); a customer of the month opens the customer page,
// whose totals are the API's; the search finds that customer; a free
// from/to range is kept in the URL and drives the charts.
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const monthLabel = (m) => `${MONTHS[Number(m.slice(5)) - 1]} ${m.slice(0, 4)}`;
// The digits (and sign) of a shown figure: "$12,345.60" and "12345.60" compare equal.
const digits = (text) => (text ?? '').replace(/[^\d-]/g, '');

export async function drillDownChecks({ page, base, check }) {
  const api = (path) => page.evaluate(async (p) => {
    const res = await fetch(p);
    return { status: res.status, body: await res.json() };
  }, path);

  await keyboardChecks({ page, base, check, api });

  // ---- A click on a month of the monthly chart opens that month.
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 60000 });
  const report = (await api('/reports/monthly-transactions')).body;
  const canvas = page.locator('#monthly canvas');
  const [l, t, r, b] = (await canvas.getAttribute('data-plot-area')).split(' ').map(Number);
  const index = report.months.length - 2;
  const month = report.months[index].month;
  const box = await canvas.boundingBox();
  const slot = (r - l) / report.months.length;
  await page.mouse.click(box.x + l + slot * (index + 0.5), box.y + b - Math.min(4, (b - t) / 4));
  await page.waitForURL(`**/month/${month}**`, { timeout: 10000 }).catch(() => {});
  check(new URL(page.url()).pathname === `/month/${month}`, `a click on ${month} of the monthly chart opens /month/${month} (${page.url()})`);
  await page.waitForSelector('#month-revenue .kpi-value', { timeout: 30000 });
  const shown = (await api(`/reports/month/${month}?limit=10&currency=${report.currency}`)).body;
  const tile = async (id) => (await page.locator(`#${id} .kpi-value`).textContent()).trim();
  check(digits(await tile('month-revenue')) === digits(shown.current.revenue), `month revenue shown is the API's (${await tile('month-revenue')} = ${shown.current.revenue})`);
  check(digits(await tile('month-transactions')) === String(shown.current.transactions), `month transactions shown are the API's (${shown.current.transactions})`);
  check(digits(await tile('month-customers')) === String(shown.current.active_customers), `month active customers shown are the API's (${shown.current.active_customers})`);
  check(digits(await tile('month-revenue')) === digits(report.months[index].revenue), 'the month page agrees with the chart it was opened from');
  if (shown.previous) {
    const sub = await page.locator('#month-revenue .kpi-sub').textContent();
    check(sub.includes(monthLabel(shown.previous.month)), `the change is against ${shown.previous.month}: ${sub}`);
  }
  const rows = page.locator('#month-customers-list tbody tr');
  check((await rows.count()) === shown.top_customers.length, `one row per top customer of the month (${shown.top_customers.length})`);
  check(!(await page.locator('body').textContent()).includes('@'), 'no e-mail address on the month page');
  const csv = await page.locator('#month a[download]').getAttribute('href');
  const csvBody = await page.evaluate(async (u) => (await fetch(u)).text(), csv);
  check(csvBody.startsWith('currency,month,row,') && csvBody.includes(`,${month},month,`), `the month's CSV link: ${csv}`);

  // ---- The best customer of the month opens the customer page.
  const best = shown.top_customers[0];
  await rows.first().locator('a.customer-link').click();
  await page.waitForURL(`**/customer/${best.customer_id}`, { timeout: 10000 }).catch(() => {});
  check(new URL(page.url()).pathname === `/customer/${best.customer_id}`, `a customer of the month opens their page (${page.url()})`);
  const customer = (await api(`/customers/${best.customer_id}`)).body;
  await page.waitForSelector(`#customer-total-${report.currency} .kpi-value`, { timeout: 30000 });
  for (const total of customer.totals) {
    const value = (await page.locator(`#customer-total-${total.currency} .kpi-value`).textContent()).trim();
    check(digits(value) === digits(total.total_spending), `customer total in ${total.currency} shown is the API's (${value} = ${total.total_spending})`);
  }
  const inMonth = customer.months.find((m) => m.month === month && m.currency === report.currency);
  check(inMonth && inMonth.spending === best.total_spending, `the customer's ${month} is the month page's figure (${inMonth?.spending} = ${best.total_spending})`);
  check((await page.locator('#customer-months tbody tr').count()) === customer.months.length, 'one row per month and currency');
  check((await page.locator('#customer-flags').count()) === 1, 'the data-quality flags are shown');
  check(!(await page.locator('body').textContent()).includes('@'), 'no e-mail address on the customer page');

  // ---- The search finds them by name (or id), and links to them.
  const q = customer.customer_name ? customer.customer_name.split(' ')[0] : customer.customer_id.slice(0, 6);
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Customers' }).click();
  await page.fill('#customer-q', q);
  await page.click('#customer-search');
  await page.waitForURL(`**/customer?q=**`, { timeout: 10000 }).catch(() => {});
  const found = (await api(`/customers?limit=20&q=${encodeURIComponent(q)}`)).body;
  await page.waitForSelector('#customers tbody tr', { timeout: 30000 }).catch(() => {});
  const ids = await page.locator('#customers tbody tr a.customer-link').allTextContents();
  check(ids.join(' ') === found.customers.map((c) => c.customer_id).join(' '), `the search for "${q}" shows the API's page (${ids.length} customers)`);

  // ---- A free range in the URL: the selects show it, the charts follow it.
  const first = report.months[0].month;
  const last = report.months[report.months.length - 2].month;
  await page.goto(`${base}/?from=${first}&to=${last}`, { waitUntil: 'load' });
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 60000 });
  // The selects get their options from /reports/meta, which may answer after
  // the chart is drawn: wait (bounded) for them to show the range.
  await page.waitForFunction(([f, t]) => document.querySelector('#from')?.value === f && document.querySelector('#to')?.value === t,
    [first, last], { timeout: 15000 }).catch(() => {});
  const range = [await page.locator('#from').inputValue(), await page.locator('#to').inputValue()];
  check(range[0] === first && range[1] === last, `the range is kept in the URL and shown in the selects (${range.join(' to ')}; asked ${first} to ${last})`);
  await page.locator('#monthly .card-actions button').click();
  check((await page.locator('#monthly tbody tr').count()) === report.months.length - 1, 'the monthly table holds the range\'s months');
  const rangeCsv = await page.locator('#monthly a[download]').getAttribute('href');
  check(rangeCsv.includes(`from=${first}`) && rangeCsv.includes(`to=${last}`) && !rangeCsv.includes('months='), `the CSV link carries the range: ${rangeCsv}`);
  await page.selectOption('#months', '12');
  await page.waitForURL((u) => !u.search.includes('from='), { timeout: 10000 }).catch(() => {});
  check(new URL(page.url()).search === '?months=12', `a preset leaves the range (${page.url()})`);
}

// The monthly chart from the keyboard: Tab reaches it (with a visible ring),
// the arrows select a month whose tooltip and live region name it, marked at
// its slot; Home, End and Escape; Enter opens the selected month's page.
async function keyboardChecks({ page, base, check, api }) {
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#monthly canvas[data-drawn="true"]', { timeout: 60000 });
  const report = (await api('/reports/monthly-transactions')).body;
  const months = report.months.map((m) => m.month);
  const canvas = page.locator('#monthly canvas');
  const tooltip = page.locator('#monthly .tooltip');
  const live = page.locator('#monthly [aria-live="polite"]');
  const onMonthly = () => page.evaluate(() => document.activeElement === document.querySelector('#monthly canvas'));

  await page.evaluate(() => document.activeElement?.blur());
  let tabs = 0;
  while (!(await onMonthly()) && tabs < 100) {
    await page.keyboard.press('Tab');
    tabs += 1;
  }
  check(await onMonthly(), `Tab reaches the monthly chart (${tabs} presses)`);
  const ring = await canvas.evaluate((c) => {
    const s = getComputedStyle(c);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  check(ring.style !== 'none' && ring.width >= 2, `the focused chart shows a ring (${ring.style} ${ring.width}px)`);
  const label = await canvas.getAttribute('aria-label');
  check(await canvas.getAttribute('role') === 'application' && label.includes('Arrow keys') && label.includes('Enter'), `the chart says its keys: ${label}`);
  check((await tooltip.count()) === 0 && (await live.textContent()) === '', 'nothing selected before a key');

  const [l, , r] = (await canvas.getAttribute('data-plot-area')).split(' ').map(Number);
  const box = await canvas.boundingBox();
  const slot = (r - l) / months.length;
  // The tooltip and the live region name month `i`, and the mark is on its slot.
  const selects = async (i, what) => {
    const name = monthLabel(months[i]);
    const tip = await tooltip.textContent({ timeout: 5000 }).catch(() => '');
    const lines = await tooltip.locator('div').allTextContents().catch(() => []);
    const heard = await live.textContent();
    check(tip.startsWith(name) && tip.includes('Revenue:'), `${what}: the tooltip shows ${name} (${tip})`);
    check(heard === lines.join(', ') && heard.startsWith(name), `${what}: the live region reads ${name} (${heard})`);
    const mark = await page.locator('#monthly .slot-mark').boundingBox();
    const centre = mark ? mark.x + mark.width / 2 - box.x : NaN;
    check(centre > l + slot * i && centre < l + slot * (i + 1), `${what}: the mark is on slot ${i} (centre at ${centre.toFixed(1)} px)`);
  };
  const presses = Math.min(3, months.length);
  for (let k = 0; k < presses; k += 1) await page.keyboard.press('ArrowRight');
  await selects(presses - 1, `${presses} × ArrowRight`);
  await page.keyboard.press('End');
  await selects(months.length - 1, 'End');
  await page.keyboard.press('ArrowRight');
  await selects(months.length - 1, 'ArrowRight at the end');
  await page.keyboard.press('Home');
  await selects(0, 'Home');
  await page.keyboard.press('Escape');
  check((await tooltip.count()) === 0 && (await live.textContent()) === '' && (await page.locator('#monthly .slot-mark').count()) === 1,
    'Escape hides the tooltip and keeps the selection');

  const index = months.length - 2;
  await page.keyboard.press('End');
  await page.keyboard.press('ArrowLeft');
  await selects(index, 'End, ArrowLeft');
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/month/${months[index]}**`, { timeout: 10000 }).catch(() => {});
  const url = new URL(page.url());
  check(url.pathname === `/month/${months[index]}` && url.searchParams.get('currency') === report.currency,
    `Enter on ${months[index]} opens /month/${months[index]} in ${report.currency} (${page.url()})`);
}
