import fs from 'node:fs';
import { chromium, type Browser, type Locator } from 'playwright-core';

/** The operating system's Chromium (Debian's `chromium` package); the set-up script installs it. */
export const CHROMIUM = process.env.TJU_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium as root on a closed network: no sandbox, and none of its calls home. */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install it (apt-get install chromium) or set TJU_CHROMIUM`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
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

/** Waits (up to `timeoutMs`) for what `read` returns to pass `check`, then asserts it with jest. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => void, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The few web-first assertions the tests need (Playwright's own `expect` lives in @playwright/test). */
export const see = {
  count: (locator: Locator, n: number) =>
    eventually(
      () => locator.count(),
      (count) => expect(count).toBe(n),
    ),
  texts: (locator: Locator, texts: string[]) =>
    eventually(
      async () => (await locator.allInnerTexts()).map((t) => t.trim()),
      (found) => expect(found).toEqual(texts),
    ),
  contains: (locator: Locator, text: string) =>
    eventually(
      async () => (await locator.allInnerTexts()).join('\n'),
      (found) => expect(found).toContain(text),
    ),
};
