// A stranger reports a collection from its page on a phone, in Chinese and in English, and
// follows the report by its ticket; a regulator reads the console and finds the reports in the
// audit log, at a phone's and a desktop's width in both languages. Driven by tests/browser.rs
// against a demo installation.
//
// Environment: BASE_URL, REGULATOR_EMAIL, REGULATOR_PASSWORD, REGULATOR_SECOND_FACTOR, SCREENSHOT_DIR,
// CHROMIUM.

import { join } from 'node:path';
import { launchChromium, logIn, noSidewaysScroll, screenshot } from './launch.mjs';

const { BASE_URL, REGULATOR_EMAIL, REGULATOR_PASSWORD, REGULATOR_SECOND_FACTOR, SCREENSHOT_DIR, CHROMIUM } = process.env;

function fail(message) {
  throw new Error(message);
}

const browser = await launchChromium(CHROMIUM);
try {
  const tickets = [];
  for (const [locale, lang, words] of [
    ['zh-CN', 'zh-CN', '该藏品的图片涉嫌抄袭他人作品，请核查。'],
    ['en-US', 'en', 'The artwork of this collection copies someone else’s illustration.'],
  ]) {
    const phone = await browser.newContext({ locale, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await phone.newPage();
    await page.goto(`${BASE_URL}/collections/1`);
    await page.locator('a[href="/report?target=collection:1"]').click();
    await page.waitForURL(`${BASE_URL}/report?target=collection:1`);
    await noSidewaysScroll(page);
    await screenshot(page, join(SCREENSHOT_DIR, `report-form-${lang}-390.png`));
    // Sent without a description first: the form says what is missing and keeps the choice.
    await page.locator('input[name="category"][value="infringement"]').check();
    await page.locator('#description').fill('太短');
    await page.locator('#description').evaluate((el) => el.removeAttribute('minlength'));
    await page.locator('form[data-report-form] button[type="submit"]').click();
    await page.locator('.alert-error').waitFor();
    if (!(await page.locator('input[name="category"][value="infringement"]').isChecked())) fail('the category was lost');
    await page.locator('#description').fill(words);
    await page.locator('form[data-report-form] button[type="submit"]').click();
    await page.waitForURL(/\/reports\/[0-9A-Z]{16}$/);
    const status = await page.locator('[data-report-status]').getAttribute('data-report-status');
    if (status !== 'open') fail(`the new report is ${status}`);
    tickets.push(await page.locator('[data-ticket]').getAttribute('data-ticket'));
    await noSidewaysScroll(page);
    await screenshot(page, join(SCREENSHOT_DIR, `report-status-${lang}-390.png`));
    await phone.close();
  }
  if (new Set(tickets).size !== 2) fail('each report has its own ticket');

  // One log-in (with its second step: a code is good once), its session in every context.
  const signedIn = await logIn(browser, BASE_URL, REGULATOR_EMAIL, REGULATOR_PASSWORD, REGULATOR_SECOND_FACTOR);
  const storageState = await signedIn.context().storageState();
  await signedIn.context().close();
  for (const [locale, lang] of [['zh-CN', 'zh-CN'], ['en-US', 'en']]) {
    for (const width of [390, 1280]) {
      const context = await browser.newContext({ locale, viewport: { width, height: 900 }, storageState });
      const page = await context.newPage();
      await page.goto(`${BASE_URL}/regulator`);
      await page.locator('[data-issuer] a').first().click();
      await page.waitForURL(/\/regulator\/issuers\/\d+$/);
      await noSidewaysScroll(page);
      await screenshot(page, join(SCREENSHOT_DIR, `regulator-issuer-${lang}-${width}.png`));
      await page.goto(`${BASE_URL}/regulator/audit?action=report.filed`);
      const filed = await page.locator('tr[data-audit]').count();
      if (filed < 2) fail(`the regulator sees ${filed} of the 2 reports in the audit log`);
      await noSidewaysScroll(page);
      await screenshot(page, join(SCREENSHOT_DIR, `regulator-reports-${lang}-${width}.png`));
      await context.close();
    }
  }
} finally {
  await browser.close();
}
