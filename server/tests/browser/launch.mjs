// Starts Debian's Chromium for the browser tests, with the flags this sandboxed, offline
// machine needs (no sandbox as root, no background network traffic), and signs people in.

import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

export function launchChromium(executablePath) {
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// The two-step verification keys the test set up, by address: { key, recovery }.
const SECOND_FACTORS = JSON.parse(process.env.SECOND_FACTORS || '{}');

// Signs `email` in through the log-in form in a fresh English-language browser context,
// answering the second step with `secondFactor` (a base32 key), or the key the test set up
// for the address; resolves to the page, left on the home page.
export async function logIn(browser, baseUrl, email, password, secondFactor) {
  const factor = secondFactor ? { key: secondFactor } : SECOND_FACTORS[email];
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  if (factor) {
    await page.waitForURL(`${baseUrl}/login/two-factor`);
    await answerSecondFactor(page, factor.key, factor.recovery);
  }
  await page.waitForURL(`${baseUrl}/`);
  return page;
}

// The RFC 6238 code (HMAC-SHA1, six digits, 30-second steps) of a base32 key for `step`, as an
// authenticator app computes it.
export function totpCode(base32, step) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...base32.replace(/[\s=]/g, '').toUpperCase()].map((c) => alphabet.indexOf(c).toString(2).padStart(5, '0')).join('');
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 30_000);

// On a log-in's second step: types the code of the moment, and if the server saw that one
// already (the account was set up or logged in moments ago), the next step's, which it accepts
// early, and then `recovery`, a recovery code, if given; resolves once the log-in went through.
export async function answerSecondFactor(page, key, recovery) {
  const now = currentStep();
  const answers = [totpCode(key, now), totpCode(key, now + 1), ...(recovery ? [recovery] : [])];
  for (const answer of answers) {
    await page.locator('#code').fill(answer);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/login/two-factor') && r.request().method() === 'POST'),
      page.locator('form[action="/login/two-factor"] button[type="submit"]').click(),
    ]);
    if (response.status() === 303) {
      await page.waitForURL((url) => !url.pathname.startsWith('/login'));
      return;
    }
  }
  throw new Error(`the second step refused all of ${answers.length} answers`);
}

// Fails unless the page fits its viewport's width: nothing may scroll sideways.
export async function noSidewaysScroll(page) {
  const { scroll, width, url } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
    url: location.pathname + location.search,
  }));
  if (scroll > width) throw new Error(`${url} scrolls sideways: ${scroll} px wide in a ${width} px viewport`);
}

// The text part of an .eml file the server wrote, decoded.
function mailText(raw) {
  const parts = raw.replace(/\r\n/g, '\n').split('\n--');
  for (const part of parts) {
    const [head, ...body] = part.split('\n\n');
    const lower = head.toLowerCase();
    if (!lower.includes('content-type: text/plain')) continue;
    const text = body.join('\n\n');
    if (lower.includes('content-transfer-encoding: base64')) return Buffer.from(text.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (lower.includes('content-transfer-encoding: quoted-printable')) {
      const bytes = text.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    return text;
  }
  return '';
}

// Waits for a mail to `to` in the server's mail directory holding a link with `path`, and
// returns the link.
export async function linkInMail(dir, to, path) {
  const { readdir, readFile } = await import('node:fs/promises');
  for (let attempt = 0; attempt < 300; attempt++) {
    const names = (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.eml'));
    for (const name of names) {
      const raw = await readFile(`${dir}/${name}`, 'utf8');
      if (!raw.trimEnd().endsWith('--') || !raw.includes(to)) continue;
      const link = mailText(raw).split(/\s+/).find((word) => word.startsWith('http') && word.includes(path));
      if (link) return link;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no mail to ${to} with a ${path} link`);
}

// A full-page screenshot of `page` at `path`. Chromium under load now and then answers
// "Unable to capture screenshot" while it is still compositing a tall page; a screenshot is a
// record for people to look at, not an assertion, so that one error gets a second attempt
// once the page has settled.
export async function screenshot(page, path) {
  try {
    await page.screenshot({ path, fullPage: true });
  } catch (err) {
    if (!String(err.message).includes('Unable to capture screenshot')) throw err;
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path, fullPage: true });
  }
}
