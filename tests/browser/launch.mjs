// Starts Debian's Chromium for the browser tests, with the flags this sandboxed, offline
// machine needs (no sandbox as root, no background network traffic).

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
