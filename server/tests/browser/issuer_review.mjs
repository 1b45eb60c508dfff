// A reviewer approves an issuer application in headless Chromium, then the issuer's public
// page shows its filings. Driven by tests/browser.rs, which prepares the application.
//
// Environment: BASE_URL, REVIEWER_EMAIL, REVIEWER_PASSWORD, ISSUER_NAME, SCREENSHOT_DIR, CHROMIUM.

import { join } from 'node:path';
import { launchChromium, logIn, screenshot } from './launch.mjs';

const { BASE_URL, REVIEWER_EMAIL, REVIEWER_PASSWORD, ISSUER_NAME, SCREENSHOT_DIR, CHROMIUM } = process.env;

const browser = await launchChromium(CHROMIUM);
try {
  const page = await logIn(browser, BASE_URL, REVIEWER_EMAIL, REVIEWER_PASSWORD);

  await page.getByRole('navigation').getByRole('link', { name: 'Review' }).click();
  await page.getByRole('heading', { name: 'Issuer applications waiting for review' }).waitFor();
  await screenshot(page, join(SCREENSHOT_DIR, 'review-queue-en.png'));
  await page.getByRole('link', { name: ISSUER_NAME }).click();
  await page.getByRole('button', { name: 'Claim' }).click();
  await page.getByRole('button', { name: 'Approve' }).waitFor();
  await screenshot(page, join(SCREENSHOT_DIR, 'review-issuer-en.png'));
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Approved', { exact: true }).first().waitFor();
  const id = new URL(page.url()).pathname.split('/').pop();

  await page.goto(`${BASE_URL}/lang/zh-CN?next=%2Fissuers%2F${id}`);
  await page.getByText('经认证的发行方').waitFor();
  await page.getByText('91350100M000100Y43').waitFor();
  await page.getByText('京网信备11010819842097170019号').first().waitFor();
  await screenshot(page, join(SCREENSHOT_DIR, 'issuer-public-zh-CN.png'));
  console.log(`issuer ${id} approved in the browser`);
} finally {
  await browser.close();
}
