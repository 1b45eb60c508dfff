// A collector scans a claim code's QR link, claims the collectible, downloads its certificate
// and finds it in "my collection", in English and Chinese. Driven by tests/browser.rs, which
// publishes a claim-code collection and prints its codes.
//
// Then the issuer sees the claim on its dashboard, and a reviewer the collection's tokens on its
// case page.
//
// Environment: BASE_URL, CODE_LINK, TITLE, COLLECTOR_EMAIL, MEMBER_EMAIL, REVIEWER_EMAIL,
// DASHBOARD, CASE, PASSWORD, DOWNLOAD_DIR, SCREENSHOT_DIR, CHROMIUM.

import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { launchChromium, logIn as logInAt, screenshot } from './launch.mjs';

const {
  BASE_URL, CODE_LINK, TITLE, COLLECTOR_EMAIL, MEMBER_EMAIL, REVIEWER_EMAIL, DASHBOARD, CASE, PASSWORD, DOWNLOAD_DIR,
  SCREENSHOT_DIR, CHROMIUM,
} = process.env;
const shot = (page, name) => screenshot(page, join(SCREENSHOT_DIR, name));

const logIn = (browser, email) => logInAt(browser, BASE_URL, email, PASSWORD);

const browser = await launchChromium(CHROMIUM);
try {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(CODE_LINK);
  await page.getByRole('heading', { name: TITLE }).waitFor();
  await page.getByRole('link', { name: 'Log in to claim' }).click();
  await page.getByLabel('Email').fill(COLLECTOR_EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(CODE_LINK);
  await shot(page, 'redeem-en.png');
  await page.getByRole('button', { name: 'Claim for free' }).click();
  await page.locator('[data-serial="1"]').waitFor();

  const certificate = page.getByRole('link', { name: 'Download certificate (JSON)' });
  for (let attempt = 0; (await certificate.count()) === 0; attempt++) {
    if (attempt > 100) throw new Error('the token never reached the ledger');
    await page.waitForTimeout(100);
    await page.reload();
  }
  await shot(page, 'token-en.png');
  const [download] = await Promise.all([page.waitForEvent('download'), certificate.click()]);
  const saved = join(DOWNLOAD_DIR, 'certificate.json');
  await download.saveAs(saved);
  const json = JSON.parse(await readFile(saved, 'utf8'));
  if (json.entry.type !== 'token_minted' || !json.holder || !/^[0-9a-f]{64}$/.test(json.holder.opening || '')
      || 'blind_index' in json.holder) {
    throw new Error(`not a token certificate: ${JSON.stringify(json).slice(0, 200)}`);
  }

  const shareImage = page.getByRole('link', { name: 'Share image (PNG)' });
  const imageUrl = new URL(await shareImage.getAttribute('href'), BASE_URL).toString();
  const image = await page.goto(imageUrl);
  if (image.status() !== 200 || image.headers()['content-type'] !== 'image/png') {
    throw new Error(`the share image did not load: ${image.status()}`);
  }
  await writeFile(join(SCREENSHOT_DIR, 'certificate-image-en.png'), await image.body());
  await page.goBack();

  await page.getByRole('navigation').getByRole('link', { name: 'My collection' }).click();
  await page.locator('.token-grid li', { hasText: TITLE }).waitFor();
  await shot(page, 'my-collection-en.png');
  await page.goto(`${BASE_URL}/lang/zh-CN?next=%2Fme%2Fcollection`);
  await page.getByRole('heading', { name: '我的藏品' }).waitFor();
  await page.locator('.token-grid li', { hasText: '#1 / 5' }).waitFor();
  await shot(page, 'my-collection-zh-CN.png');
  await page.locator('.token-grid a').first().click();
  await page.getByText('不可转让').first().waitFor();
  await shot(page, 'token-zh-CN.png');
  const imageZh = await page.request.get(new URL(await page.getByRole('link', { name: '分享图片（PNG）' }).getAttribute('href'), BASE_URL).toString());
  await writeFile(join(SCREENSHOT_DIR, 'certificate-image-zh-CN.png'), await imageZh.body());

  const issuer = await logIn(browser, MEMBER_EMAIL);
  await issuer.goto(`${BASE_URL}${DASHBOARD}`);
  await issuer.locator('svg[data-total="1"]').waitFor();
  await issuer.getByText('1 claimed, 4 remaining').waitFor();
  await issuer.getByText('2 generated, 1 used.').waitFor();
  await shot(issuer, 'dashboard-en.png');

  const reviewer = await logIn(browser, REVIEWER_EMAIL);
  await reviewer.goto(`${BASE_URL}${CASE}`);
  await reviewer.getByText('Tokens claimed so far: 1.').waitFor();
  await shot(reviewer, 'review-collection-tokens-en.png');
  await reviewer.goto(`${BASE_URL}/lang/zh-CN?next=${encodeURIComponent(CASE)}`);
  await reviewer.getByText('已领取 1 件。').waitFor();
  await shot(reviewer, 'review-collection-tokens-zh-CN.png');
  console.log('claimed through a QR link and downloaded the certificate');
} finally {
  await browser.close();
}
