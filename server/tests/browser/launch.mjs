// Starts Debian's Chromium for the browser tests, with the flags this sandboxed, offline
// machine needs (no sandbox as root, no background network traffic), and signs people in.

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

// Signs `email` in through the log-in form in a fresh English-language browser context;
// resolves to the page, left on the home page.
export async function logIn(browser, baseUrl, email, password) {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${baseUrl}/`);
  return page;
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
