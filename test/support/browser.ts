/**
 * Debian's Chromium for the browser tests, driven by playwright-core: headless, no sandbox,
 * nothing fetched from the network on its own; one page of the given size and wait.
 * `foreignRequests` collects every request to another host than `base` (blob: and data: URLs
 * stay in the page), for the tests' "made no request to any other host".
 */
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function openBrowserPage(
  base: string,
  options: {
    viewport: { width: number; height: number };
    timeoutMs: number;
    foreignRequests?: string[];
    /** Collects what the console shows as an error: a failed request (a 401 on a first load) or a script error. */
    consoleErrors?: string[];
  },
): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS });
  const page = await browser.newPage({ viewport: options.viewport });
  page.setDefaultTimeout(options.timeoutMs);
  const foreign = options.foreignRequests;
  if (foreign) {
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(base) && !url.startsWith('blob:') && !url.startsWith('data:')) foreign.push(url);
    });
  }
  const errors = options.consoleErrors;
  if (errors) {
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
  }
  return { browser, page };
}

/** Opens the web UI and logs in with the API token, as a user does: the status board is shown. */
export async function logIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(base);
  await page.getByLabel('API token').fill(token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Status' }).waitFor();
}
