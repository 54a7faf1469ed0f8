// Accessibility and phone layout, page by page: axe-core (from npm, run inside
// the system Chromium) at desktop and phone widths in both themes, failing on
// any serious or critical violation; and at phone width, what axe cannot see:
// nothing wider than the screen, numbers that do not wrap mid-digits, tables a
// keyboard can reach.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');

// Every page of the dashboard, with what shows it has drawn its data.
export const PAGES = [
  { path: '/', ready: '#monthly canvas[data-drawn="true"]' },
  { path: '/data-quality', ready: '#dimensions canvas[data-drawn="true"]' },
  { path: '/runs', ready: '#runs tbody tr' },
  { path: '/recurring-revenue', ready: '#mrr canvas[data-drawn="true"]' },
  { path: '/customer', ready: '#customers tbody tr' },
  { path: '/month/2024-05', ready: '#month-revenue .kpi-value' },
];
const WIDTHS = [{ name: 'desktop', width: 1280, height: 1000 }, { name: 'phone', width: 390, height: 844 }];
const THEMES = ['light', 'dark'];

// The violations of axe's WCAG 2 A/AA rules and best practices that are serious
// or critical, as `rule: target (summary)` lines.
async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ path: AXE });
  }
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    resultTypes: ['violations'],
  }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} [${v.impact}]: ${n.target.join(' ')} — ${(n.failureSummary || '').split('\n').slice(1, 2).join('').trim()}`));
}

// At phone width: what overflows the screen, numbers broken over lines, and
// scrolling regions a keyboard cannot reach.
async function phoneProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw + 1) {
      problems.push(`the page is ${document.documentElement.scrollWidth} px wide on a ${vw} px screen`);
    }
    // A figure (digits, separators, a currency sign, a % or a unit letter) laid
    // out on more than one line.
    const figure = /^[-+−]?[$€£¥]?\s?[\d.,]+\s?[%kMB]?$/;
    for (const el of document.querySelectorAll('body *')) {
      if (el.children.length > 0) continue;
      const text = (el.textContent || '').trim();
      if (!figure.test(text) || text.length < 4) continue;
      // The text's own line boxes (not the element's, which include padding).
      const range = document.createRange();
      range.selectNodeContents(el);
      const lines = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) {
        problems.push(`the figure "${text}" wraps over lines (${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''})`);
      }
    }
    // A region that scrolls sideways must take the keyboard's focus itself or
    // hold something focusable, or a keyboard user cannot see what is cut off.
    for (const el of document.querySelectorAll('body *')) {
      const style = getComputedStyle(el);
      if (!['auto', 'scroll'].includes(style.overflowX) || el.scrollWidth <= el.clientWidth + 1) continue;
      const focusable = el.tabIndex >= 0 || el.querySelector('a[href], button, input, select, [tabindex]:not([tabindex="-1"])');
      if (!focusable) problems.push(`a region scrolls sideways without keyboard access (${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className})`);
    }
    return problems;
  });
}

// Opens every page at every width in both themes and checks it.
export async function a11yChecks(page, base, check) {
  for (const { name, width, height } of WIDTHS) {
    await page.setViewportSize({ width, height });
    for (const theme of THEMES) {
      await page.emulateMedia({ colorScheme: theme });
      for (const { path, ready } of PAGES) {
        await page.goto(`${base}${path}`, { waitUntil: 'load' });
        await page.waitForSelector(ready, { timeout: 60000 });
        // Charts redraw after a resize or a theme change; let them settle.
        await page.waitForTimeout(300);
        const violations = await axeViolations(page);
        check(violations.length === 0, `axe: ${path} at ${name} width, ${theme} theme: ${violations.length ? violations.join('; ') : 'no serious or critical violation'}`);
        if (name === 'phone') {
          const problems = await phoneProblems(page);
          check(problems.length === 0, `phone layout of ${path} (${theme}): ${problems.length ? problems.join('; ') : 'fits, figures whole, tables reachable'}`);
        }
      }
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 1600 });
}
