// Every page of a populated platform (`keepsake demo`), as each of its people sees it, in
// headless Chromium: at a phone's 390 px no page may scroll sideways; the main pages of each
// role are also checked at 1280 px, run through axe-core (no serious or critical violation),
// and kept as screenshots in both languages at both widths. Driven by tests/browser.rs.
//
// Environment: BASE_URL, ACCOUNTS (JSON: role, email, password, second_factor), EXTRA_PAGES (JSON),
// SCREENSHOT_DIR, CHROMIUM.

import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { answerSecondFactor, launchChromium, noSidewaysScroll, screenshot } from './launch.mjs';

const { BASE_URL, ACCOUNTS, EXTRA_PAGES, SCREENSHOT_DIR, CHROMIUM } = process.env;

// The pages each role works with most, checked closely.
const MAIN = {
  stranger: ['/', '/explore', '/collections/1', '/c', '/verify', '/verify?entry=1', '/issuers/1', '/signup', '/tokens/1', '/policies/privacy',
    '/report?target=collection:1', '/login/sms'],
  collector1: ['/me/collection', '/tokens/1', '/collections/2', '/identity', '/account', '/account/email', '/account/data', '/account/delete',
    '/account/phone', '/account/two-factor'],
  collector2: ['/me/collection', '/tokens/2', '/collections/3'],
  brand: ['/console/1', '/console/1/filings', '/console/1/collections/1', '/console/1/collections/2', '/console/1/collections/new', '/issuers/apply'],
  reviewer: ['/review', '/review/collections/1', '/review/issuers/1', '/review/audit', '/tokens/2', '/review/reports',
    '/review/appeals'],
  operator: ['/admin/users', '/admin/moderation', '/admin/governance'],
  regulator: ['/regulator', '/regulator/issuers/1', '/regulator/collections/1', '/regulator/audit', '/regulator/reveals',
    '/regulator/exports'],
};
const SEEDS = ['/', '/explore', '/c', '/verify', '/verify/offline', '/me/collection', '/account', '/identity', '/console',
  '/review', '/review/audit', '/admin/users', '/admin/moderation', '/regulator'];
const SKIP = ['/static/', '/lang/', '/api/', '/logout', '/artwork/', '/certificate.', '/documents/', '.csv', '/verify/keepsake', 'format=csv'];
const MOST_PAGES = 80;

const visitors = [{ name: 'stranger' }, ...JSON.parse(ACCOUNTS).map((a) => ({ ...a, name: a.email.split('@')[0] }))];
const extra = JSON.parse(EXTRA_PAGES);
const problems = [];
let checked = 0;
let shots = 0;

// Logs `visitor` in once (a code of the second step is good once) and answers the session's
// cookies, for every browser context the visitor's tour opens; a stranger has none.
async function logIn(visitor) {
  if (!visitor.email) return undefined;
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/login`);
  await page.locator('#email').fill(visitor.email);
  await page.locator('#password').fill(visitor.password);
  await page.locator('form[action="/login"] button[type="submit"]').click();
  if (visitor.second_factor) {
    await page.waitForURL(`${BASE_URL}/login/two-factor`);
    await answerSecondFactor(page, visitor.second_factor);
  }
  await page.waitForURL(`${BASE_URL}/`);
  const state = await context.storageState();
  await context.close();
  return state;
}

async function axe(page, where) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  for (const violation of results.violations) {
    if (violation.impact === 'serious' || violation.impact === 'critical') {
      const targets = violation.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ');
      problems.push(`${where}: ${violation.impact} ${violation.id} (${violation.help}) at ${targets}`);
    }
  }
}

function slug(path) {
  return path.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '') || 'home';
}

// Same-site pages a page links to (one per path, except ledger entries), as the walk follows them.
async function linksOf(page) {
  const hrefs = await page.$$eval('a[href^="/"]', (as) => as.map((a) => a.getAttribute('href')));
  return hrefs.map((h) => h.split('#')[0]).filter((h) => h && !h.startsWith('//') && !SKIP.some((s) => h.includes(s)));
}

function keyOf(link) {
  const [path, query] = link.split('?');
  return path === '/verify' && query && query.startsWith('entry=') ? link : path;
}

const browser = await launchChromium(CHROMIUM);
try {
  for (const visitor of visitors) {
    const storageState = await logIn(visitor);
    for (const locale of ['zh-CN', 'en-US']) {
      const lang = locale === 'en-US' ? 'en' : 'zh-CN';
      const phone = await browser.newContext({ locale, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, storageState });
      const page = await phone.newPage();
      const main = MAIN[visitor.name] || [];
      const queue = [...main, ...SEEDS, ...extra];
      const seen = new Set(queue.map(keyOf));
      let walked = 0;
      while (queue.length && walked < MOST_PAGES) {
        const path = queue.shift();
        const response = await page.goto(`${BASE_URL}${path}`);
        if (!(response.headers()['content-type'] || '').startsWith('text/html')) continue;
        walked += 1;
        checked += 1;
        try {
          await noSidewaysScroll(page);
        } catch (err) {
          problems.push(`${visitor.name} ${lang} 390: ${err.message}`);
        }
        if (main.includes(path)) {
          await screenshot(page, join(SCREENSHOT_DIR, `tour-${visitor.name}-${slug(path)}-${lang}-390.png`));
          shots += 1;
          await axe(page, `${visitor.name} ${lang} 390 ${path}`);
        }
        for (const link of await linksOf(page)) {
          if (!seen.has(keyOf(link))) {
            seen.add(keyOf(link));
            queue.push(link);
          }
        }
      }
      await phone.close();

      const desktop = await browser.newContext({ locale, viewport: { width: 1280, height: 800 }, storageState });
      const wide = await desktop.newPage();
      for (const path of main) {
        await wide.goto(`${BASE_URL}${path}`);
        try {
          await noSidewaysScroll(wide);
        } catch (err) {
          problems.push(`${visitor.name} ${lang} 1280: ${err.message}`);
        }
        await screenshot(wide, join(SCREENSHOT_DIR, `tour-${visitor.name}-${slug(path)}-${lang}-1280.png`));
        shots += 1;
        await axe(wide, `${visitor.name} ${lang} 1280 ${path}`);
      }
      await desktop.close();
    }
  }
  if (problems.length) throw new Error(`${problems.length} problems:\n${problems.join('\n')}`);
  console.log(`${checked} page views fit 390 px; ${shots} screenshots of main pages passed axe-core`);
} finally {
  await browser.close();
}
