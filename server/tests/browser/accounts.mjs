// Signs up, verifies the email, switches to English, logs in and out in headless Chromium,
// saving screenshots along the way. Driven by tests/browser.rs, which starts the server.
//
// Environment: BASE_URL, MAIL_DIR (the server's .eml directory), SCREENSHOT_DIR, CHROMIUM.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium, screenshot } from './launch.mjs';

const { BASE_URL, MAIL_DIR, SCREENSHOT_DIR, CHROMIUM } = process.env;
const email = `browser-${Date.now()}@example.com`;
const password = 'a long browser passphrase';

function fail(message) {
  throw new Error(message);
}

// The text/plain part of a message the server wrote, decoded.
function plainText(raw) {
  for (const part of raw.replace(/\r\n/g, '\n').split('\n--')) {
    const split = part.indexOf('\n\n');
    const headers = part.slice(0, split).toLowerCase();
    const body = part.slice(split + 2);
    if (!headers.includes('content-type: text/plain')) continue;
    if (headers.includes('content-transfer-encoding: base64')) {
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    }
    if (headers.includes('content-transfer-encoding: quoted-printable')) {
      const bytes = body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    return body;
  }
  return '';
}

async function verificationLink() {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for (const name of readdirSync(MAIL_DIR)) {
      if (!name.endsWith('.eml')) continue;
      const raw = readFileSync(join(MAIL_DIR, name), 'utf8');
      if (!raw.includes(email)) continue;
      const link = plainText(raw).split(/\s+/).find((w) => w.startsWith('http') && w.includes('/verify-email/'));
      if (link) return link;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fail(`no verification mail for ${email} in ${MAIL_DIR}`);
}

async function expectText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10_000 });
}

const browser = await launchChromium(CHROMIUM);
try {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();

  await page.goto(`${BASE_URL}/`);
  await expectText(page, '免费领取、可验证、不可转让的数字藏品');
  await screenshot(page, join(SCREENSHOT_DIR, 'home-zh-CN.png'));

  await page.getByRole('link', { name: '立即注册' }).click();
  await page.getByLabel('电子邮箱').fill(email);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await page.getByLabel('确认密码').fill(password);
  await page.locator('input[name=accept_policies]').check();
  await screenshot(page, join(SCREENSHOT_DIR, 'signup-zh-CN.png'));
  await page.getByRole('button', { name: '注册' }).click();
  await expectText(page, '请查收验证邮件');

  await page.goto(await verificationLink());
  await expectText(page, '邮箱已验证');

  await page.getByRole('link', { name: 'English' }).click();
  await expectText(page, 'Email verified');
  await page.locator('main').getByRole('link', { name: 'Log in' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${BASE_URL}/`);
  await page.getByRole('navigation').getByRole('link', { name: 'My account' }).click();
  await expectText(page, email);
  await expectText(page, 'verified');
  await screenshot(page, join(SCREENSHOT_DIR, 'account-en.png'));

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('link', { name: 'Sign up' }).first().waitFor();
  await page.goto(`${BASE_URL}/account`);
  await expectText(page, 'Log in');
  if (!page.url().includes('/login?next=%2Faccount')) fail(`expected the log-in page, got ${page.url()}`);
  console.log(`browser flow passed for ${email}`);
} finally {
  await browser.close();
}
