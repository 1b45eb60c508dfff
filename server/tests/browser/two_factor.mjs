// A newly appointed reviewer sets up two-step verification on a phone (390 × 844) in Chinese:
// the review pages lead to the set-up page, the key shown under the QR code goes into the
// "authenticator app" (the code is computed here as an app would), the recovery codes are shown
// once, and the review queue opens. Logging in again asks for the code; on a desktop in
// English a recovery code stands in for a lost phone. Every step is a screenshot. Driven by
// tests/browser.rs, which makes the reviewer.
//
// Environment: BASE_URL, EMAIL, PASSWORD, SCREENSHOT_DIR, CHROMIUM. Writes the key to stdout.

import { join } from 'node:path';
import { currentStep, launchChromium, noSidewaysScroll, screenshot, totpCode } from './launch.mjs';

const { BASE_URL, EMAIL, PASSWORD, SCREENSHOT_DIR, CHROMIUM } = process.env;

function fail(message) {
  throw new Error(message);
}

const browser = await launchChromium(CHROMIUM);
try {
  const phone = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await phone.newPage();
  const shot = async (target, name) => {
    await noSidewaysScroll(target);
    await screenshot(target, join(SCREENSHOT_DIR, `two-factor-${name}.png`));
  };
  const logIn = async (target) => {
    await target.goto(`${BASE_URL}/login`);
    await target.locator('#email').fill(EMAIL);
    await target.locator('#password').fill(PASSWORD);
    await target.locator('form[action="/login"] button[type="submit"]').click();
  };

  await logIn(page);
  await page.waitForURL(`${BASE_URL}/`);
  if (!(await page.locator('#site-nav a[href="/account/two-factor"]').count())) fail('the menu offers the set-up');
  await page.goto(`${BASE_URL}/review`);
  await page.waitForURL(`${BASE_URL}/account/two-factor?next=%2Freview`);
  await page.getByText('开启两步验证后才能打开工作人员页面').waitFor();
  await page.locator('.two-factor-qr svg').waitFor();
  await shot(page, 'set-up-zh-CN-390');

  const key = await page.locator('#totp-secret').getAttribute('data-secret');
  await page.getByLabel('应用中的验证码').fill('000000');
  await page.getByRole('button', { name: '开启两步验证' }).click();
  await page.locator('#code-error').waitFor();
  let step = currentStep();
  await page.getByLabel('应用中的验证码').fill(totpCode(key, step));
  await page.getByRole('button', { name: '开启两步验证' }).click();
  await page.locator('#recovery-codes li').first().waitFor();
  const codes = await page.locator('#recovery-codes li').allTextContents();
  if (codes.length !== 10) fail(`${codes.length} recovery codes shown`);
  await shot(page, 'recovery-codes-zh-CN-390');
  await page.getByRole('link', { name: '继续' }).click();
  await page.waitForURL(`${BASE_URL}/review`);
  await shot(page, 'review-zh-CN-390');

  // A second log-in asks for a code: the one just used is refused, the next step's is taken.
  const again = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const second = await again.newPage();
  await logIn(second);
  await second.waitForURL(`${BASE_URL}/login/two-factor`);
  await shot(second, 'log-in-zh-CN-390');
  await second.locator('#code').fill(totpCode(key, step));
  await second.getByRole('button', { name: '登录' }).click();
  await second.getByText('该验证码已使用过').waitFor();
  step += 1;
  await second.locator('#code').fill(totpCode(key, step));
  await second.getByRole('button', { name: '登录' }).click();
  await second.waitForURL(`${BASE_URL}/`);
  await second.goto(`${BASE_URL}/review`);
  if (new URL(second.url()).pathname !== '/review') fail(`the review queue did not open: ${second.url()}`);

  // On a desktop in English, a recovery code stands in for the phone, once.
  const desk = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const wide = await desk.newPage();
  await logIn(wide);
  await wide.waitForURL(`${BASE_URL}/login/two-factor`);
  await wide.getByText('Lost your phone?').waitFor();
  await shot(wide, 'log-in-en-1280');
  await wide.locator('#code').fill(codes[0].toUpperCase());
  await wide.getByRole('button', { name: 'Log in' }).click();
  await wide.waitForURL(`${BASE_URL}/`);
  await wide.goto(`${BASE_URL}/account/two-factor`);
  await wide.getByText('Unused recovery codes: 9.').waitFor();
  await shot(wide, 'manage-en-1280');
  console.log(key);
} finally {
  await browser.close();
}
