// An issuer creates and submits a collection whose text promises appreciation, a reviewer
// sees the finding highlighted and approves it, the issuer publishes it, and its public page
// shows the ledger entry in English and Chinese. Driven by tests/browser.rs, which prepares
// an approved issuer and the artwork file.
//
// Finally the admin adds a block term on the moderation policy page.
//
// Environment: BASE_URL, ISSUER_ID, MEMBER_EMAIL, REVIEWER_EMAIL, PASSWORD, ADMIN_EMAIL,
// ADMIN_PASSWORD, ARTWORK, SCREENSHOT_DIR, CHROMIUM.

import { join } from 'node:path';
import { launchChromium, logIn as logInAt, screenshot } from './launch.mjs';

const {
  BASE_URL, ISSUER_ID, MEMBER_EMAIL, REVIEWER_EMAIL, PASSWORD, ADMIN_EMAIL, ADMIN_PASSWORD, ARTWORK, SCREENSHOT_DIR,
  CHROMIUM,
} = process.env;
const TITLE = '十二生肖 · 2026 马年';
const shot = (page, name) => screenshot(page, join(SCREENSHOT_DIR, name));

const logIn = (browser, email, password = PASSWORD) => logInAt(browser, BASE_URL, email, password);

const browser = await launchChromium(CHROMIUM);
try {
  const issuer = await logIn(browser, MEMBER_EMAIL);
  await issuer.goto(`${BASE_URL}/console/${ISSUER_ID}`);
  await issuer.getByRole('link', { name: 'New collection' }).click();
  await issuer.getByLabel('Title').fill(TITLE);
  await issuer.getByLabel('Description').fill('限量发行，未来必将升值！\nA limited edition for the Year of the Horse.');
  await issuer.getByLabel('Artwork', { exact: true }).setInputFiles(ARTWORK);
  await issuer.getByLabel('Edition size').fill('2026');
  await issuer.getByLabel('Claims open').fill('2026-12-01T10:00');
  await issuer.getByLabel('Claims close').fill('2027-02-01T10:00');
  await issuer.getByLabel('Open (any verified person)').check();
  await shot(issuer, 'collection-form-en.png');
  await issuer.getByRole('button', { name: 'Save draft' }).click();
  await issuer.locator('[data-status="draft"]').waitFor();
  await issuer.getByRole('button', { name: 'Submit for review' }).click();
  await issuer.locator('[data-status="in_review"]').waitFor();
  await issuer.locator('mark.finding[data-category="financialisation"]', { hasText: '升值' }).waitFor();
  const detail = issuer.url();
  const id = new URL(detail).pathname.split('/').pop();
  await shot(issuer, 'collection-console-en.png');

  const reviewer = await logIn(browser, REVIEWER_EMAIL);
  await reviewer.goto(`${BASE_URL}/lang/zh-CN?next=%2Freview`);
  await reviewer.getByRole('heading', { name: '待审核的藏品系列' }).waitFor();
  await reviewer.locator(`tr[data-collection="${id}"]`).getByText('金融化').waitFor();
  await shot(reviewer, 'review-queue-collections-zh-CN.png');
  await reviewer.getByRole('link', { name: TITLE }).click();
  await reviewer.getByRole('button', { name: '认领' }).click();
  const highlighted = reviewer.locator('mark.finding[data-category="financialisation"]', { hasText: '升值' });
  await highlighted.waitFor();
  const background = await highlighted.evaluate((el) => getComputedStyle(el).backgroundColor);
  if (background === 'rgba(0, 0, 0, 0)' || background === 'rgb(255, 255, 255)') {
    throw new Error(`the finding is not visibly highlighted (background ${background})`);
  }
  await shot(reviewer, 'review-collection-zh-CN.png');
  await reviewer.getByLabel('通过', { exact: true }).check();
  await reviewer.getByRole('button', { name: '提交决定' }).click();
  await reviewer.locator('[data-status="approved"]').waitFor();

  await issuer.goto(detail);
  await issuer.getByRole('button', { name: 'Publish' }).click();
  await issuer.locator('[data-status="published"]').waitFor();

  const visitor = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 900 } });
  const page = await visitor.newPage();
  for (let attempt = 0; ; attempt++) {
    await page.goto(`${BASE_URL}/collections/${id}`);
    if (await page.locator('[data-ledger-index]').count() > 0) break;
    if (attempt > 100) throw new Error('the ledger entry never appeared');
    await page.waitForTimeout(100);
  }
  await page.getByRole('heading', { name: TITLE }).waitFor();
  await page.locator('.collection-public').getByText('京ICP备12345678号-1').waitFor();
  await page.getByText('0 / 2026').waitFor();
  await shot(page, 'collection-public-en.png');
  await page.goto(`${BASE_URL}/lang/zh-CN?next=%2Fcollections%2F${id}`);
  await page.getByText('发行数量').waitFor();
  await page.getByText('查看链上记录与核验', { exact: false }).waitFor();
  await shot(page, 'collection-public-zh-CN.png');

  const admin = await logIn(browser, ADMIN_EMAIL, ADMIN_PASSWORD);
  await admin.getByRole('navigation').getByRole('link', { name: 'Moderation policy' }).click();
  await admin.getByLabel('Category').selectOption('gambling');
  await admin.getByLabel('Severity').selectOption('block');
  await admin.getByLabel('Terms to add').fill('幸运大转盘\n稳赢彩票');
  await admin.getByRole('button', { name: 'Add', exact: true }).click();
  await admin.locator('.term-list li', { hasText: '稳赢彩票' }).waitFor();
  await shot(admin, 'admin-moderation-en.png');
  console.log(`collection ${id} submitted, approved and published in the browser`);
} finally {
  await browser.close();
}
