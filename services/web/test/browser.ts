import { mkdirSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { repoRoot, stackInfo } from '@mercato/devstack';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, installed by scripts/install-runtime.sh; playwright-core never downloads a browser. */
export const chromiumPath = process.env['MERCATO_CHROMIUM'] ?? '/usr/bin/chromium';

/** Where the tests leave their screenshots (test artefacts; not committed). */
export const artefactsDir = path.join(repoRoot, 'test-artifacts', 'web');

export function launchBrowser(): Promise<Browser> {
  mkdirSync(artefactsDir, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // As root in a sandbox without user namespaces Chromium cannot sandbox itself; the background-networking flags
    // stop it calling Google's hosts, which this machine's closed network refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export const siteUrl = (pathAndQuery = '/'): string => `${stackInfo().ingressUrl}${pathAndQuery}`;

/**
 * A page that records what a strict CSP would complain about: console errors (a refused script or style shows up
 * there as "Refused to …") and failed page errors.
 */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  problems: string[];
}

export async function newWatchedPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // A page answered with an error status on purpose (403, 404, 503) is reported by Chromium as a failed resource
    // load: not a problem (a refused script or style says "Refused to …").
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of [45]\d\d/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  return { page, context, problems };
}

/** Signs in on Keycloak's real login page, starting from the site's own sign-in link. */
export async function signIn(page: Page, username: string, password = username): Promise<void> {
  await page.goto(siteUrl('/'));
  await page.getByRole('link', { name: 'Sign in', exact: true }).first().click();
  await page.waitForURL(/\/realms\/mercato\/protocol\/openid-connect\/auth/);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#kc-login').click();
  await page.waitForURL((url) => url.origin === new URL(siteUrl()).origin);
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/signed-out$/);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(artefactsDir, `${name}.png`), fullPage: true });
}

/** axe-core's findings of impact serious or critical on the page as it is now. */
export async function seriousAccessibilityViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).slice(0, 3).join('; ')})`);
}
