// End-to-end checks of the drill-down, run by dashboard.mjs on the open-mode
// server: a click on a month of the monthly chart opens that month, whose
// figures are the API's; a customer of the month opens the customer page,
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
  check(await page.locator('#from').inputValue() === first && await page.locator('#to').inputValue() === last, 'the range is kept in the URL and shown in the selects');
  await page.locator('#monthly .card-actions button').click();
  check((await page.locator('#monthly tbody tr').count()) === report.months.length - 1, 'the monthly table holds the range\'s months');
  const rangeCsv = await page.locator('#monthly a[download]').getAttribute('href');
  check(rangeCsv.includes(`from=${first}`) && rangeCsv.includes(`to=${last}`) && !rangeCsv.includes('months='), `the CSV link carries the range: ${rangeCsv}`);
  await page.selectOption('#months', '12');
  await page.waitForURL((u) => !u.search.includes('from='), { timeout: 10000 }).catch(() => {});
  check(new URL(page.url()).search === '?months=12', `a preset leaves the range (${page.url()})`);
}
