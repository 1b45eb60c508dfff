// A stranger checks an attested file and its receipt on the /verify page in headless
// Chromium, in English and in Chinese; then the issuer finds the attestation and its receipt
// in the console. Driven by tests/browser.rs, which attests the file.
//
// Environment: BASE_URL, DOCUMENT, RECEIPT, TAMPERED_RECEIPT, ISSUER_NAME, ISSUER_ID,
// MEMBER_EMAIL, MEMBER_PASSWORD, SCREENSHOT_DIR, CHROMIUM.

import { join } from 'node:path';
import { launchChromium, logIn, screenshot } from './launch.mjs';

const {
  BASE_URL, DOCUMENT, RECEIPT, TAMPERED_RECEIPT, ISSUER_NAME, ISSUER_ID, MEMBER_EMAIL, MEMBER_PASSWORD,
  SCREENSHOT_DIR, CHROMIUM,
} = process.env;

const browser = await launchChromium(CHROMIUM);
try {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/`);
  await page.getByRole('navigation').getByRole('link', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Verify an attestation' }).waitFor();

  await page.getByLabel('File', { exact: true }).setInputFiles(DOCUMENT);
  await page.getByRole('button', { name: 'Hash and look up' }).click();
  await page.getByRole('link', { name: ISSUER_NAME }).waitFor();
  await page.getByText("recorded this file's hash in the ledger").waitFor();
  await page.getByText('Technical details').click();
  await page.getByText('The path ends at the signed root').waitFor();
  await page.getByText("The checkpoint's signature is valid").waitFor();
  await screenshot(page, join(SCREENSHOT_DIR, 'verify-file-en.png'));

  await page.getByLabel('Receipt file (JSON)').setInputFiles(RECEIPT);
  await page.getByRole('button', { name: 'Check receipt' }).click();
  await page.getByText('This receipt is valid').waitFor();

  await page.getByLabel('Receipt file (JSON)').setInputFiles(TAMPERED_RECEIPT);
  await page.getByRole('button', { name: 'Check receipt' }).click();
  await page.getByText('This receipt is not valid.').waitFor();
  await screenshot(page, join(SCREENSHOT_DIR, 'verify-tampered-en.png'));

  await page.goto(`${BASE_URL}/lang/zh-CN?next=%2Fverify`);
  await page.getByRole('heading', { name: '验证存证' }).waitFor();
  await page.getByLabel('回执文件（JSON）').setInputFiles(RECEIPT);
  await page.getByRole('button', { name: '核验回执' }).click();
  await page.getByText('回执有效').waitFor();
  await screenshot(page, join(SCREENSHOT_DIR, 'verify-receipt-zh-CN.png'));

  const console_ = await logIn(browser, BASE_URL, MEMBER_EMAIL, MEMBER_PASSWORD);
  await console_.goto(`${BASE_URL}/console/${ISSUER_ID}`);
  const row = console_.locator('#attestations tbody tr').filter({ hasText: '发布通稿' });
  await row.getByRole('link', { name: 'Receipt' }).waitFor();
  await screenshot(console_, join(SCREENSHOT_DIR, 'console-attestations-en.png'));
  await console_.goto(`${BASE_URL}/lang/zh-CN?next=%2Fconsole%2F${ISSUER_ID}`);
  await console_.getByRole('heading', { name: '存证记录' }).waitFor();
  await console_.locator('#attestations').getByRole('link', { name: '回执' }).waitFor();
  await screenshot(console_, join(SCREENSHOT_DIR, 'console-attestations-zh-CN.png'));
  console.log('file and receipt verified in the browser');
} finally {
  await browser.close();
}
