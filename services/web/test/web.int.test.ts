import { randomUUID } from 'node:crypto';
import { api, controlProcess, eventually, stackInfo, tokenFor } from '@mercato/devstack';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newWatchedPage, screenshot, seriousAccessibilityViolations, signIn, signOut, siteUrl, type WatchedPage } from './browser';

/**
 * The web front end in a real browser (Debian's Chromium through playwright-core) against the real platform: Keycloak's
 * own login page, the services behind their sidecars, nothing mocked. Every page visited is checked for CSP
 * complaints and serious accessibility violations (axe-core), and screenshotted into test-artifacts/web/.
 */
let browser: Browser;
const opened: WatchedPage[] = [];

/** The test platform starts empty (no demo data): a category and an in-stock phone of this run's own. */
const run = randomUUID().slice(0, 8);
const phoneName = `Browser test phone ${run}`;

beforeAll(async () => {
  browser = await launchBrowser();
  const token = await tokenFor('editor');
  const category = await api<{ id: string }>('POST', '/api/categories', { token, body: { name: `Web phones ${run}`, slug: `web-phones-${run}` } });
  expect(category.status).toBe(201);
  const product = await api('POST', '/api/products', {
    token,
    body: { sku: `WEB-PHONE-${run}`, name: phoneName, categoryIds: [category.body.id], price: { amount: 19_900, currency: 'USD' }, stock: 5, status: 'active' },
  });
  expect(product.status).toBe(201);
  await eventually(
    async () => (await api<{ items: Array<{ name: string }> }>('GET', `/api/products?q=${run}&in_stock=true`, { token })).body.items ?? [],
    (items) => items.some((item) => item.name === phoneName),
  );
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const watched of opened.splice(0)) await watched.context.close();
});

async function personPage(): Promise<WatchedPage> {
  const watched = await newWatchedPage(browser);
  opened.push(watched);
  return watched;
}

/** Screenshot, then no serious accessibility violation and nothing the CSP refused on the page as it is now. */
async function checkPage(watched: WatchedPage, name: string): Promise<void> {
  await screenshot(watched.page, name);
  expect(await seriousAccessibilityViolations(watched.page)).toEqual([]);
  expect(watched.problems).toEqual([]);
}

const headingOf = (page: Page) => page.getByRole('heading', { level: 1 }).first().textContent();

describe('the web front end', () => {
  it('when anyone opens the site, then pages carry a strict CSP, the welcome page offers sign-in and the OpenAPI document of the pages is served', async () => {
    const response = await fetch(siteUrl('/'));
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(response.status).toBe(200);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const watched = await personPage();
    await watched.page.goto(siteUrl('/'));
    expect(await headingOf(watched.page)).toBe('Welcome to Mercato');
    await checkPage(watched, 'welcome');
    const document = await fetch(siteUrl('/openapi.json'));
    expect(document.status).toBe(200);
    expect(Object.keys(((await document.json()) as { paths: Record<string, unknown> }).paths)).toEqual(expect.arrayContaining(['/', '/products/{id}', '/login']));
  });

  it('when pages are served, then each replica counts them on its own metrics port, which the ingress never serves', async () => {
    await fetch(siteUrl('/'));
    for (const replica of stackInfo().replicas['web'] ?? []) {
      const metrics = await fetch(`http://127.0.0.1:${replica.metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('http_request_duration_seconds');
    }
    expect((await fetch(siteUrl('/metrics'))).status).toBe(404);
  });

  it.each(['viewer', 'editor', 'admin', 'auditor', 'premium'])('when %s signs in on the Keycloak page, then the site shows who is signed in', async (username) => {
    const watched = await personPage();
    await signIn(watched.page, username);
    await expect(watched.page.locator('.who strong').textContent()).resolves.toBeTruthy();
    expect(await watched.page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    expect(watched.problems).toEqual([]);
  });

  it('when a viewer searches with a filter and opens a product, then the product page shows it; signing out ends the session', async () => {
    const watched = await personPage();
    const { page } = watched;
    await signIn(page, 'viewer');
    await checkPage(watched, 'catalog');
    await page.getByLabel('Search products').fill(`phone ${run}`);
    await page.getByLabel('In stock only').check();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/in_stock=true/);
    const first = page.locator('.products .card h2 a').first();
    const name = await first.textContent();
    expect(name).toBeTruthy();
    await checkPage(watched, 'catalog-search');
    await first.click();
    expect(await headingOf(page)).toBe(name);
    await checkPage(watched, 'product');

    await signOut(page);
    expect(await headingOf(page)).toBe('You are signed out');
    // The session is gone here and at Keycloak: the next sign-in asks for the password again.
    await page.goto(siteUrl('/login?returnTo=%2F'));
    await page.waitForURL(/\/realms\/mercato\/protocol\/openid-connect\/auth/);
    expect(await page.locator('#password').count()).toBe(1);
  });

  it('when a viewer opens the editor form, then the 403 page says so', async () => {
    const watched = await personPage();
    await signIn(watched.page, 'viewer');
    const response = await watched.page.goto(siteUrl('/products/new'));
    expect(response?.status()).toBe(403);
    expect(await headingOf(watched.page)).toBe('You may not do this');
    await checkPage(watched, 'forbidden');
    const missing = await watched.page.goto(siteUrl('/no-such-page'));
    expect(missing?.status()).toBe(404);
    await checkPage(watched, 'not-found');
  });

  it('when an editor creates a product, then it is found in search, and an auditor sees its event and verifies the chain', async () => {
    const sku = `WEB-${randomUUID().slice(0, 8).toUpperCase()}`;
    const name = `Browser test lamp ${sku}`;
    const editor = await personPage();
    await signIn(editor.page, 'editor');
    await editor.page.goto(siteUrl('/products/new'));
    await checkPage(editor, 'product-form');

    // First the API's own validation, shown beside the fields: a price that is no amount, no category.
    await editor.page.getByLabel('SKU').fill(sku);
    await editor.page.getByLabel('Name').fill(name);
    await editor.page.getByLabel(/^Price/).fill('twelve');
    await editor.page.getByRole('button', { name: 'Save product' }).click();
    await expect(editor.page.locator('#price-error').textContent()).resolves.toContain('price');
    await editor.page.getByLabel(/^Price/).fill('12.50');
    await editor.page.getByRole('button', { name: 'Save product' }).click();
    await expect(editor.page.locator('#categoryIds-error').textContent()).resolves.toBeTruthy();
    await checkPage(editor, 'product-form-errors');

    await editor.page.getByLabel('Categories').selectOption({ index: 0 });
    await editor.page.getByLabel('Status').selectOption('active');
    await editor.page.getByLabel('Stock').fill('3');
    await editor.page.getByRole('button', { name: 'Save product' }).click();
    await editor.page.waitForURL(/\/products\/[0-9a-f-]{36}\?saved=1$/);
    expect(await headingOf(editor.page)).toBe(name);
    const productId = /\/products\/([0-9a-f-]{36})/.exec(editor.page.url())![1]!;

    // The search index is fed by events: the product appears within moments.
    await eventually(
      async () => {
        await editor.page.goto(siteUrl(`/?q=${encodeURIComponent(sku)}`));
        return editor.page.locator('.products .card h2 a').allTextContents();
      },
      (names) => names.includes(name),
    );

    const auditor = await personPage();
    await signIn(auditor.page, 'auditor');
    await eventually(
      async () => {
        await auditor.page.goto(siteUrl(`/audit?subject=${productId}`));
        return auditor.page.locator('tbody tr').allTextContents();
      },
      (rows) => rows.some((row) => row.includes('catalog.product.created')),
    );
    await checkPage(auditor, 'audit-log');
    await auditor.page.locator('tbody tr a').first().click();
    expect(await headingOf(auditor.page)).toBe('catalog.product.created');
    await expect(auditor.page.locator('pre').textContent()).resolves.toContain(sku);
    await checkPage(auditor, 'audit-event');
    await auditor.page.goto(siteUrl('/audit'));
    await auditor.page.getByRole('link', { name: 'Verify the chains' }).click();
    await expect(auditor.page.getByRole('status').textContent()).resolves.toContain('Every chain verifies');
    await checkPage(auditor, 'audit-verify');
  });

  it('when an admin deactivates a user, then that person can no longer sign in', async () => {
    const username = `web-${randomUUID().slice(0, 8)}`;
    const created = await api<{ id: string }>('POST', '/api/users', {
      token: await tokenFor('admin'),
      body: { email: `${username}@example.com`, name: `Web ${username}`, login: { username, temporaryPassword: 'first-Password-123' } },
    });
    expect(created.status).toBe(201);

    // The person signs in once (Keycloak asks for a new password first).
    const person = await personPage();
    await person.page.goto(siteUrl('/login?returnTo=%2F'));
    await person.page.locator('#username').fill(username);
    await person.page.locator('#password').fill('first-Password-123');
    await person.page.locator('#kc-login').click();
    await person.page.locator('#password-new').fill('second-Password-456');
    await person.page.locator('#password-confirm').fill('second-Password-456');
    await person.page.locator('[type=submit]').click();
    await person.page.waitForURL((url) => url.origin === new URL(siteUrl()).origin);

    const admin = await personPage();
    await signIn(admin.page, 'admin');
    await admin.page.goto(siteUrl('/users'));
    await checkPage(admin, 'users');
    await admin.page.goto(siteUrl(`/users/${created.body.id}`));
    await admin.page.getByRole('button', { name: 'Deactivate' }).click();
    await expect(admin.page.getByRole('status').textContent()).resolves.toContain('deactivated');
    await checkPage(admin, 'user-detail');

    const again = await personPage();
    await again.page.goto(siteUrl('/login?returnTo=%2F'));
    await again.page.locator('#username').fill(username);
    await again.page.locator('#password').fill('second-Password-456');
    await again.page.locator('#kc-login').click();
    await expect(again.page.locator('#input-error, .kc-feedback-text, [id^="input-error"], .alert-error').first().textContent()).resolves.toMatch(/disabled/i);
    expect(new URL(again.page.url()).origin).not.toBe(new URL(siteUrl()).origin);
  });

  it('when a form is posted without its CSRF token or with a forged one, then it is refused with the 403 page and nothing changes', async () => {
    const watched = await personPage();
    await signIn(watched.page, 'editor');
    const slug = `csrf-${randomUUID().slice(0, 8)}`;
    for (const token of [undefined, 'forged.token']) {
      const form: Record<string, string> = { name: 'Forged category', slug, parentId: '' };
      if (token) form['_csrf'] = token;
      const response = await watched.page.request.post(siteUrl('/categories'), { form, maxRedirects: 0 });
      expect(response.status()).toBe(403);
      expect(await response.text()).toContain('This form has expired');
    }
    const search = await api<{ items: Array<{ slug: string }> }>('GET', `/api/categories?q=${slug}`, { token: await tokenFor('editor') });
    expect(search.body.items.filter((category) => category.slug === slug)).toEqual([]);
  });

  it('when a premium member and a viewer search memes, then only the premium member sees AI-generated memes, marked', async () => {
    const premium = await personPage();
    await signIn(premium.page, 'premium');
    await premium.page.goto(siteUrl('/memes'));
    await premium.page.getByLabel('Words').fill('cat');
    await premium.page.getByRole('button', { name: 'Search' }).click();
    await premium.page.waitForURL(/query=cat/);
    expect(await premium.page.locator('.card.generated .badge').count()).toBeGreaterThan(0);
    await checkPage(premium, 'memes');

    const viewer = await personPage();
    await signIn(viewer.page, 'viewer');
    await viewer.page.goto(siteUrl('/memes?query=cat'));
    expect(await viewer.page.locator('.memes .card').count()).toBeGreaterThan(0);
    expect(await viewer.page.locator('.card.generated').count()).toBe(0);
    await viewer.page.goto(siteUrl('/me'));
    expect(await headingOf(viewer.page)).toBe('My profile');
    await checkPage(viewer, 'profile');
  });

  it('when a service a page needs is down, then the page says the service is unavailable, and works again once it is back', async () => {
    const watched = await personPage();
    await signIn(watched.page, 'viewer');
    const replicas = ['categories-1', 'categories-2'];
    try {
      for (const name of replicas) await controlProcess(name, 'stop');
      const response = await watched.page.goto(siteUrl('/'));
      expect(response?.status()).toBe(503);
      expect(await headingOf(watched.page)).toBe('Service unavailable');
      await checkPage(watched, 'unavailable');
    } finally {
      for (const name of replicas) await controlProcess(name, 'start');
    }
    const back = await eventually(async () => (await watched.page.goto(siteUrl('/')))?.status(), (status) => status === 200, 60_000);
    expect(back).toBe(200);
  });

  it('when pages get bad input, then each answers a clear 4xx or shows the problem on the page, never a 5xx', async () => {
    const watched = await personPage();
    await signIn(watched.page, 'admin');
    const statusOf = async (path: string) => (await watched.page.request.get(siteUrl(path), { maxRedirects: 0 })).status();
    expect(await statusOf('/audit/event?id=%23x')).toBe(404);
    expect(await statusOf('/audit/event?id=a&id=b')).toBe(404);
    expect(await statusOf('/products/not-a-product')).toBeGreaterThanOrEqual(400);
    expect(await statusOf('/products/not-a-product')).toBeLessThan(500);
    expect(await statusOf('/users/not-a-user')).toBeLessThan(500);
    for (const path of ['/?price_min=cheap', '/?category=nope', '/?q=a&q=b&sort=sideways', '/audit?from=yesterday', '/users?page=-1', '/memes?lat=91&lon=0']) {
      const response = await watched.page.goto(siteUrl(path));
      expect([path, response?.status()]).toEqual([path, 200]);
      expect([path, await watched.page.locator('.problem, .error').count()]).not.toEqual([path, 0]);
    }
    const token = await watched.page.locator('input[name="_csrf"]').first().inputValue();
    const repeated = await watched.page.request.post(siteUrl('/categories'), { data: `name=x&slug=x-${run}&_csrf=${token}&_csrf=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, maxRedirects: 0 });
    expect(repeated.status()).toBe(403);
  });

  it('when a sign-in link names another site to return to, then the person lands on this site', async () => {
    const watched = await personPage();
    await watched.page.goto(siteUrl('/login?returnTo=https%3A%2F%2Fevil.example%2F'));
    await watched.page.locator('#username').fill('viewer');
    await watched.page.locator('#password').fill('viewer');
    await watched.page.locator('#kc-login').click();
    await watched.page.waitForURL((url) => url.origin === new URL(siteUrl()).origin);
    expect(new URL(watched.page.url()).pathname).toBe('/');
  });
});
