import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { launchChromium, type ChromiumSession } from '../helpers/browser.js';

/**
 * The queue dashboard (bull-board at /admin/queues) in Debian's Chromium,
 * under the API's security headers: refused without ADMIN_TOKEN, and with
 * it as the Basic password it renders the training queue and its waiting
 * job, with no script error or CSP violation.
 */
const ADMIN_TOKEN = 'admin-token-for-the-browser-test';
const LONG = { timeout: 60_000 };

let t: TestApp;
let chrome: ChromiumSession;
let baseUrl: string;

beforeAll(async () => {
  t = await createTestApp({ ADMIN_TOKEN });
  expect((await t.http.post('/v1/jobs').send(jobBody())).status).toBe(202);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  chrome = await launchChromium();
  // bull-board's page links a web font from the internet, which our machines do not reach: answer it empty.
  await chrome.page.route(/^https:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) => route.fulfill({ status: 200, contentType: 'text/css', body: '' }));
});
afterAll(async () => {
  await chrome?.close();
  await t?.close();
});

describe('the queue dashboard in a browser', () => {
  it('is refused without the token, asking for Basic credentials', async () => {
    // Through the browser's own request context: a page load would open the login prompt, which headless Chromium cancels.
    const res = await chrome.page.request.get(`${baseUrl}/admin/queues`);
    expect(res.status()).toBe(401);
    expect(res.headers()['www-authenticate']).toBe('Basic realm="Trainyard queues", charset="UTF-8"');
  });

  it('shows the training queue and its waiting job with the token as the password', async () => {
    const page = chrome.page;
    await page.setExtraHTTPHeaders({ authorization: `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}` });
    const res = await page.goto(`${baseUrl}/admin/queues`);
    expect(res?.status()).toBe(200);
    await page.getByText(`training (${t.config.QUEUE_NAME})`).waitFor(LONG);
    await page.getByText('1 Job').waitFor(LONG);
    await chrome.screenshot('queue-dashboard-1280');
    expect(chrome.problems).toEqual([]);
  });
});
