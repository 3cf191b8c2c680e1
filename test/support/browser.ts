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
  options: { viewport: { width: number; height: number }; timeoutMs: number; foreignRequests?: string[] },
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
  return { browser, page };
}
