// A collector uses their rights over their data on a phone (390 × 844) in Chinese: changes
// their email address and confirms it from the new mailbox, asks for a copy of their data and
// downloads it once the mail says it is ready, then deletes their account. Every step is kept
// as a screenshot and checked for sideways scrolling. Driven by tests/browser.rs, which makes
// the verified collector.
//
// Environment: BASE_URL, EMAIL, NEW_EMAIL, PASSWORD, MAIL_DIR, SCREENSHOT_DIR, CHROMIUM.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launchChromium, linkInMail, noSidewaysScroll, screenshot } from './launch.mjs';

const { BASE_URL, EMAIL, NEW_EMAIL, PASSWORD, MAIL_DIR, SCREENSHOT_DIR, CHROMIUM } = process.env;

const browser = await launchChromium(CHROMIUM);
try {
  const context = await browser.newContext({
    locale: 'zh-CN',
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const shot = async (name) => {
    await noSidewaysScroll(page);
    await screenshot(page, join(SCREENSHOT_DIR, `rights-${name}.png`));
  };
  const logIn = async (email) => {
    await page.goto(`${BASE_URL}/login`);
    await page.locator('form[action="/login"] input[name=email]').fill(email);
    await page.locator('form[action="/login"] input[name=password]').fill(PASSWORD);
    await page.locator('form[action="/login"] button[type=submit]').click();
    await page.waitForURL((url) => !url.pathname.startsWith('/login'));
  };

  // A new address, confirmed from the new mailbox; every session ends with the change.
  await logIn(EMAIL);
  await page.goto(`${BASE_URL}/account/email`);
  await page.locator('input[name=new_email]').fill(NEW_EMAIL);
  await page.locator('form[action="/account/email"] input[name=password]').fill(PASSWORD);
  await page.locator('form[action="/account/email"] button[type=submit]').click();
  await page.locator('[data-email-change="sent"]').waitFor();
  await shot('email-sent');
  await page.goto(await linkInMail(MAIL_DIR, NEW_EMAIL, '/account/email/confirm/'));
  await shot('email-confirm');
  await page.locator('[data-email-change-step="confirm"]').click();
  await page.waitForURL(`${BASE_URL}/account/email/changed`);
  await shot('email-changed');

  // A copy of the data: the password, a mail when it is ready, the zip.
  await logIn(NEW_EMAIL);
  await page.goto(`${BASE_URL}/account/data`);
  await page.locator('form[action="/account/data"] input[name=password]').fill(PASSWORD);
  await page.locator('form[action="/account/data"] button[type=submit]').click();
  await page.waitForURL(`${BASE_URL}/account/data`);
  await linkInMail(MAIL_DIR, NEW_EMAIL, '/account/data');
  await page.reload();
  const ready = page.locator('[data-archive-status="ready"] a');
  await ready.waitFor();
  await shot('data-ready');
  const [download] = await Promise.all([page.waitForEvent('download'), ready.click()]);
  if (!download.suggestedFilename().endsWith('.zip')) throw new Error(`downloaded ${download.suggestedFilename()}`);
  const zip = await readFile(await download.path());
  if (zip.subarray(0, 2).toString('latin1') !== 'PK') throw new Error('the download is not a zip');

  // Deleting the account: the password and a confirmation, then signed out for good.
  await page.goto(`${BASE_URL}/account/delete`);
  await page.locator('form[action="/account/delete"] input[name=password]').fill(PASSWORD);
  await page.locator('input[name=confirm]').check();
  await shot('delete');
  await page.locator('form[action="/account/delete"] button[type=submit]').click();
  await page.waitForURL(`${BASE_URL}/account/deleted`);
  await page.getByRole('heading', { name: '你的账号已注销' }).waitFor();
  await shot('deleted');
  const after = await page.goto(`${BASE_URL}/account`);
  if (after.status() === 200 && new URL(page.url()).pathname === '/account') throw new Error('still signed in');
  console.log('address changed, data downloaded, account deleted');
} finally {
  await browser.close();
}
