import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';
import { launchChromium, type ChromiumSession } from '../helpers/browser.js';
import { BASE } from '../helpers/sweeps.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The console's sweep pages in Debian's Chromium, against a real API
 * process and training worker: the list following a sweep live, the sweep's
 * page (trials with their parameters, states, objectives and early stops as
 * the API reports them, one chart line per trial, the best trial) from the
 * event stream and, with the stream blocked, from polling; the way back from
 * a trial's job; cancelling; and the New sweep form's errors at their fields.
 */
let stack: ApiStack;
let chrome: ChromiumSession;
let page: Page;

// Deadlines only turn a hang into a readable failure.
const LONG = { timeout: 120_000 };
// Tests that wait for training: a loaded machine (load 10 and more) can take longer than the default 120 s to train a few tiny trials.
const TRAINING_GUARD_MS = 300_000;

type Trial = { index: number; jobId: string; params: Record<string, unknown>; status: string; objective: number | null; epochs: number; stopReason: string | null };
type SweepBody = {
  id: string;
  name: string;
  status: string;
  trials: Trial[];
  best: { trial: number; jobId: string; modelId: string | null; objective: number } | null;
};

const FINAL = ['succeeded', 'failed', 'cancelled'];
const getSweep = async (id: string) => (await stack.call<SweepBody>('GET', `/v1/sweeps/${id}`)).body;

/** Four trials one at a time, strong and weak learning rates in turn: ASHA stops weak ones after their first epoch. */
const checked = {
  name: 'browser-asha',
  base: { ...BASE, training: { ...BASE.training, epochs: 3, batchSize: 16 } },
  space: { 'training.learningRate': { values: [0.02, 0.000003] }, 'model.layers[0].filters': { values: [2, 4] } },
  algorithm: 'grid',
  objective: { metric: 'valLoss' },
  parallelism: 1,
  earlyStopping: { type: 'asha', minEpochs: 1, reductionFactor: 2 },
};
let checkedId = '';

beforeAll(async () => {
  [stack, chrome] = await Promise.all([startApiStack(), launchChromium()]);
  page = chrome.page;
  await page.goto(`${stack.baseUrl}/`);
  await page.getByLabel('API key').fill(stack.key);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor(LONG);
});
afterAll(async () => {
  await chrome?.close();
  await stack?.close();
});

describe('sweeps in the console', () => {
  it(
    'lists a sweep that starts while the list is open and follows it to its end without a reload',
    async () => {
      await page.getByRole('link', { name: 'Sweeps' }).click();
      await page.getByRole('heading', { name: 'Sweeps', level: 1 }).waitFor(LONG);
      await page.getByText('No sweeps yet.').waitFor(LONG);
      expect(await page.getByRole('link', { name: 'Sweeps' }).getAttribute('aria-current')).toBe('page');
      await page.evaluate('window.stillThisPage = true');

      const res = await stack.call<SweepBody>('POST', '/v1/sweeps', checked);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      checkedId = res.body.id;
      const row = page.locator(`tr[data-sweep-id="${checkedId}"]`);
      await row.waitFor(LONG);
      await row.locator('.badge.status-succeeded').waitFor({ timeout: TRAINING_GUARD_MS - 10_000 });
      expect(await page.evaluate('window.stillThisPage')).toBe(true);

      const sweep = await getSweep(checkedId);
      expect(sweep.status).toBe('succeeded');
      const text = await row.textContent();
      expect(text).toContain('browser-asha');
      expect(text).toContain('grid');
      expect(text).toContain('valLoss ↓');
      expect(text).toContain('4 / 4 trials');
      expect(text).toContain(`${sweep.best!.objective.toFixed(4)}trial ${sweep.best!.trial}`);
      await chrome.screenshot('sweeps-1280');
    },
    TRAINING_GUARD_MS,
  );

  it("shows every trial's parameters, state, objective and early stop as the API does, one chart line per trial, and the best trial", async () => {
    await page.locator(`tr[data-sweep-id="${checkedId}"] a`).click();
    await page.locator(`main[aria-busy="false"] .sweep-page[data-sweep-id="${checkedId}"][data-status="succeeded"]`).waitFor(LONG);
    const sweep = await getSweep(checkedId);
    expect(sweep.trials.every((t) => FINAL.includes(t.status))).toBe(true);
    // The point of ASHA here: some trials were cut after fewer epochs than others trained.
    const stopped = sweep.trials.filter((t) => t.stopReason !== null);
    expect(stopped.length).toBeGreaterThan(0);
    expect(Math.min(...stopped.map((t) => t.epochs))).toBeLessThan(Math.max(...sweep.trials.map((t) => t.epochs)));

    await expectPageMatches(sweep);
    await chrome.screenshot('sweep-1280');
  });

  it('fills the chart from the metrics when the event stream cannot be reached', async () => {
    await page.route('**/v1/sweeps/*/events', (route) => route.fulfill({ status: 503, contentType: 'application/problem+json', body: '{"detail":"blocked by the test"}' }));
    try {
      await page.reload();
      await page.locator(`main[aria-busy="false"] .sweep-page[data-sweep-id="${checkedId}"]`).waitFor(LONG);
      await page.locator('.live-badge[data-state="reconnecting"]').waitFor(LONG);
      await expectPageMatches(await getSweep(checkedId));
    } finally {
      await page.unroute('**/v1/sweeps/*/events');
    }
  });

  it('links a trial job back to its sweep', async () => {
    const sweep = await getSweep(checkedId);
    await page.goto(`${stack.baseUrl}/#/sweeps/${checkedId}`);
    await page.getByRole('link', { name: 'Job of trial 0' }).click();
    await page.locator(`main[aria-busy="false"] .job-page[data-job-id="${sweep.trials[0].jobId}"]`).waitFor(LONG);
    const back = page.locator(`.crumbs a[href="#/sweeps/${checkedId}"]`);
    // Named once the job page has read the sweep.
    await back.getByText('browser-asha').waitFor(LONG);
    await back.click();
    await page.locator(`main[aria-busy="false"] .sweep-page[data-sweep-id="${checkedId}"]`).waitFor(LONG);
  });

  it(
    'follows a running sweep live and cancels it after asking',
    async () => {
      const res = await stack.call<SweepBody>('POST', '/v1/sweeps', {
        name: 'browser-cancel-me',
        base: { ...BASE, training: { ...BASE.training, epochs: 50, batchSize: 16 } },
        space: { 'training.learningRate': { values: [0.01, 0.02, 0.03] } },
        algorithm: 'grid',
        objective: { metric: 'valAccuracy' },
        parallelism: 1,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await page.goto(`${stack.baseUrl}/#/sweeps/${res.body.id}`);
      await page.locator(`main[aria-busy="false"] .sweep-page[data-sweep-id="${res.body.id}"]`).waitFor(LONG);
      // The first trial's line grows from the stream while the sweep runs.
      await waitFor(
        async () => ({ epochs: await page.locator('.sweep-chart').getAttribute('data-epochs'), status: await page.locator('.sweep-page').getAttribute('data-status') }),
        ({ epochs, status }) => /^0:([2-9]|\d\d)/.test(epochs ?? '') && status === 'running',
        { timeoutMs: 240_000, what: "the first trial's line to reach its second epoch while the sweep runs" },
      );
      expect(await page.locator('.live-badge').textContent()).toBe('Live');
      const cancel = page.getByRole('button', { name: 'Cancel sweep' });
      const cancelRequests: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST' && r.url().endsWith('/cancel')) cancelRequests.push(r.url());
      });

      // Saying no to the question sends nothing.
      page.once('dialog', (d) => void d.dismiss());
      await cancel.click();
      expect(cancelRequests).toEqual([]);
      expect((await getSweep(res.body.id)).status).toBe('running');

      // A refusal is shown as the API words it, and the button can be pressed again (a 409 here, as for a sweep that ended meanwhile).
      const refusal = 'only a running sweep can be cancelled (answered by the test)';
      await page.route('**/v1/sweeps/*/cancel', (route) =>
        route.fulfill({ status: 409, contentType: 'application/problem+json', body: JSON.stringify({ status: 409, code: 'sweep-finished', detail: refusal }) }),
      );
      try {
        page.once('dialog', (d) => void d.accept());
        await cancel.click();
        await page.locator('.sweep-page .notice.error').getByText(refusal).waitFor(LONG);
        expect(await cancel.isEnabled()).toBe(true);
      } finally {
        await page.unroute('**/v1/sweeps/*/cancel');
      }
      cancelRequests.length = 0;

      let question = '';
      page.once('dialog', (d) => {
        question = d.message();
        void d.accept();
      });
      await cancel.click();
      await page.locator('.sweep-page[data-status="cancelled"]').waitFor(LONG);
      expect(await cancel.isHidden()).toBe(true);
      expect(question).toContain('Cancel browser-cancel-me?');
      expect(cancelRequests).toEqual([`${stack.baseUrl}/v1/sweeps/${res.body.id}/cancel`]);
      const done = await waitFor(
        () => getSweep(res.body.id),
        (s) => s.trials.every((t) => FINAL.includes(t.status)),
        { timeoutMs: 120_000, intervalMs: 250, what: 'the cancelled sweep to stop its trial' },
      );
      expect(done.status).toBe('cancelled');
      expect(done.trials.length).toBeLessThan(3);
      // Its trial's final state reaches the page too.
      await page.locator(`tr[data-trial-index="0"] .badge.status-${done.trials[0].status}`).waitFor(LONG);
    },
    TRAINING_GUARD_MS,
  );

  it('starts from the example, shows what the API refuses at the field it names, then opens the new sweep', async () => {
    await page.goto(`${stack.baseUrl}/#/sweeps`);
    await page.getByRole('link', { name: 'New sweep' }).click();
    await page.locator('main[data-route="new-sweep"][aria-busy="false"]').waitFor(LONG);
    // The example: the lesson's network on 3,000 digits, learning rate and first layer's width, ASHA.
    const space = page.getByLabel('Search space (JSON)');
    expect(JSON.parse(await space.inputValue())).toEqual({ 'training.learningRate': { logUniform: [0.0001, 0.01] }, 'model.layers[0].filters': { values: [16, 32, 64] } });
    const base = JSON.parse(await page.getByLabel('Base job (JSON)').inputValue());
    expect(base.dataset).toEqual({ id: 'mnist', limit: 3000 });
    expect(base.model.layers).toHaveLength(8);
    expect(await page.locator('#sweep-algorithm').inputValue()).toBe('random');
    expect(await page.locator('#sweep-metric').inputValue()).toBe('valAccuracy');
    expect(await page.locator('#sweep-goal').inputValue()).toBe('maximize');
    expect(await page.locator('#sweep-maxTrials').inputValue()).toBe('6');
    expect(await page.locator('#sweep-parallelism').inputValue()).toBe('2');
    expect(await page.locator('#sweep-es-type').inputValue()).toBe('asha');

    // JSON that does not parse is caught before anything is sent.
    await space.fill('{"training.learningRate": ');
    await page.getByRole('button', { name: 'Start sweep' }).click();
    await page.locator('#sweep-space[aria-invalid="true"]').waitFor(LONG);
    expect(await page.locator('#sweep-space-error').textContent()).toMatch(/space is not valid JSON/);

    // Layer 1 of the lesson's network is a pooling layer: it has no filters to search.
    await space.fill('{"model.layers[1].filters": {"values": [8, 16]}}');
    await page.getByRole('button', { name: 'Start sweep' }).click();
    await page.locator('#sweep-space-error:has-text("space.model.layers[1].filters")').waitFor(LONG);
    expect(await page.locator('#sweep-space-error').textContent()).toMatch(/filters is not an allowed field/);
    expect(await page.locator('#sweep-space').getAttribute('aria-invalid')).toBe('true');
    await chrome.screenshot('new-sweep-error-1280');

    // A budget out of range is named at its own field.
    await space.fill('{"training.learningRate": {"values": [0.01]}}');
    await page.locator('#sweep-maxTrials').fill('500');
    await page.getByRole('button', { name: 'Start sweep' }).click();
    await page.locator('#sweep-maxTrials[aria-invalid="true"]').waitFor(LONG);
    expect(await page.locator('#sweep-maxTrials-error').textContent()).toContain('maxTrials');
    expect(await page.locator('#sweep-space').getAttribute('aria-invalid')).toBeNull();

    await page.locator('#sweep-name').fill('browser-from-form');
    await page.getByLabel('Base job (JSON)').fill(JSON.stringify(BASE));
    await page.locator('#sweep-maxTrials').fill('1');
    await page.getByRole('button', { name: 'Start sweep' }).click();
    await page.locator('main[data-route="sweep"][aria-busy="false"] .sweep-page').waitFor(LONG);
    const id = (await page.locator('.sweep-page').getAttribute('data-sweep-id')) ?? '';
    expect(page.url()).toContain(`#/sweeps/${id}`);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('browser-from-form');
    const created = await getSweep(id);
    expect(created.name).toBe('browser-from-form');
    expect(created.trials.map((t) => t.params)).toEqual([{ 'training.learningRate': 0.01 }]);
  });

  it('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, route, name] of [
      ['#/sweeps', 'sweeps', 'sweeps'],
      [`#/sweeps/${checkedId}`, 'sweep', 'sweep'],
      ['#/sweeps/new', 'new-sweep', 'new-sweep'],
    ]) {
      await page.goto(`${stack.baseUrl}/${hash}`);
      await page.locator(`main[data-route="${route}"][aria-busy="false"]`).waitFor(LONG);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, name).toBeLessThanOrEqual(0);
      await chrome.screenshot(`${name}-390`);
    }
  });

  it('ran without a script error or a Content-Security-Policy violation', () => {
    // Expected: the refused sweeps' 400s, the blocked stream's 503s and the refused cancel's 409.
    const expected = /Failed to load resource: the server responded with a status of (400 \(Bad Request\)|409 \(Conflict\)|503 \(Service Unavailable\))/;
    expect(chrome.problems.filter((p) => !expected.test(p))).toEqual([]);
  });
});

/** The sweep page shows what the API says: each trial's row, the chart's lines, the best trial. */
async function expectPageMatches(sweep: SweepBody): Promise<void> {
  const chartEl = page.locator('.sweep-chart');
  // The lines are complete: every trial drawn as far as it trained (stopped trials' lines end early).
  const epochs = sweep.trials.map((t) => `${t.index}:${t.epochs}`).join(' ');
  await page.locator(`.sweep-chart[data-epochs="${epochs}"]`).waitFor(LONG);
  expect(await chartEl.getAttribute('data-series')).toBe(String(sweep.trials.length));
  // uPlot's own legend: the x series, then one per trial.
  const legend = chartEl.locator('.u-legend .u-series');
  expect(await legend.count()).toBe(sweep.trials.length + 1);
  const best = sweep.best!;
  expect(await chartEl.getAttribute('data-best-trial')).toBe(String(best.trial));
  expect(await legend.nth(best.trial + 1).textContent()).toContain(`trial ${best.trial} (best)`);

  const rows = page.locator('.trials-table tbody tr');
  expect(await rows.count()).toBe(sweep.trials.length);
  for (const t of sweep.trials) {
    const row = page.locator(`.trials-table tr[data-trial-index="${t.index}"]`);
    expect(await row.getAttribute('data-job-id')).toBe(t.jobId);
    for (const [path, value] of Object.entries(t.params)) {
      const cell = row.locator(`td[data-param="${path}"]`);
      expect(await cell.getAttribute('data-value'), `${path} of trial ${t.index}`).toBe(JSON.stringify(value));
      // Integers exactly, rates to 3 significant digits.
      expect(await cell.textContent()).toBe(Number.isInteger(value) ? String(value) : String(Number((value as number).toPrecision(3))));
    }
    await row.locator(`.badge.status-${t.status}`).waitFor(LONG);
    const objective = row.locator('td[data-value]:not([data-param])');
    expect(Number(await objective.getAttribute('data-value'))).toBe(t.objective);
    expect(await objective.textContent()).toBe(t.objective!.toFixed(4));
    expect(await row.locator('td[data-epochs]').getAttribute('data-epochs')).toBe(String(t.epochs));
    const stop = row.locator('td[data-stopped]');
    expect(await stop.getAttribute('data-stopped')).toBe(String(t.stopReason !== null));
    if (t.stopReason) {
      expect(await stop.textContent()).toContain(`Stopped early after ${t.epochs} epoch`);
      expect(await stop.textContent()).toContain(t.stopReason);
    }
    expect(await row.evaluate((el) => el.classList.contains('best-row'))).toBe(t.index === best.trial);
  }

  const bestCard = page.locator('#card-best-trial').locator('..');
  expect(await bestCard.textContent()).toContain(`trial ${best.trial}`);
  expect(await bestCard.textContent()).toContain(best.objective.toFixed(4));
  expect(await bestCard.getByRole('link', { name: 'Open its model' }).getAttribute('href')).toBe(`#/models/${best.modelId}`);
  expect(await bestCard.getByRole('link', { name: 'Open its job' }).getAttribute('href')).toBe(`#/jobs/${best.jobId}`);
}
