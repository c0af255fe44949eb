import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { startApiStack, type ApiStack } from '../helpers/api-stack.js';
import { launchChromium, type ChromiumSession } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The console end to end in Debian's Chromium, against a real API process
 * and training worker: key prompt, live plan and its inline errors, a job's
 * curves while it trains, cancelling, and drawing a digit for the trained
 * model. Screenshots land in test/browser/screenshots/.
 */
let stack: ApiStack;
let chrome: ChromiumSession;
let page: Page;
let trainedJobId = '';

// Deadlines only turn a hang into a readable failure.
const LONG = { timeout: 120_000 };

beforeAll(async () => {
  [stack, chrome] = await Promise.all([startApiStack(), launchChromium()]);
  page = chrome.page;
});
afterAll(async () => {
  await chrome?.close();
  await stack?.close();
});

const dataNumber = async (selector: string, attribute: string) => Number((await page.locator(selector).getAttribute(attribute)) ?? 0);

describe('the console in a browser', () => {
  it('asks for an API key once, refuses a wrong one, and keeps the key out of every URL', async () => {
    await page.goto(`${stack.baseUrl}/`);
    const keyInput = page.getByLabel('API key');
    await keyInput.waitFor(LONG);
    await chrome.screenshot('key-prompt-1280');
    await keyInput.fill('ty_not-a-key');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText(/The API refused this key/).waitFor(LONG);
    expect(await keyInput.getAttribute('aria-invalid')).toBe('true');

    await keyInput.fill(stack.key);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor(LONG);
    await page.getByText('No jobs yet.').waitFor(LONG);
    expect(await page.evaluate("sessionStorage.getItem('trainyard.apiKey')")).toBe(stack.key);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(page.url()).not.toContain(stack.key);
    // A reload keeps the session's key: no second prompt.
    await page.reload();
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor(LONG);
  });

  it('plans the lesson network live and shows a bad kernel size at its layer and field', async () => {
    await page.getByRole('link', { name: 'New job' }).first().click();
    await page.getByRole('heading', { name: 'New job', level: 1 }).waitFor(LONG);
    const planTable = page.locator('.plan-table');
    await planTable.getByText('(14 − 2 + 2·0)/2 + 1 = 7').waitFor(LONG);
    expect(await page.locator('.plan-totals').textContent()).toContain('3,274,634');
    // The first convolution's numbers: SAME on 28 with F = 5 pads 2 + 2.
    expect(await planTable.locator('tr[data-layer-index="0"]').textContent()).toMatch(/⌈28\/1⌉ = 28.*pads 2\+2/);

    // SAME fits any kernel; with 'valid', a 40x40 kernel cannot slide over 28x28.
    await page.locator('#layer-0-padding').selectOption('valid');
    await planTable.getByText('(28 − 5 + 2·0) + 1 = 24').waitFor(LONG);
    const kernel = page.locator('#layer-0-kernelSize');
    await kernel.fill('40');
    await page.locator('#layer-0-kernelSize[aria-invalid="true"]').waitFor(LONG);
    const message = await page.locator('#layer-0-kernelSize-error').textContent();
    expect(message).toMatch(/kernel 40x40 with padding 'valid' does not fit a 28x28 input/);
    await chrome.screenshot('plan-error-1280');
    // The error is on layer 1's card only.
    expect(await page.locator('.layer-card[aria-invalid], .layer-card:has([aria-invalid="true"])').count()).toBe(1);

    await kernel.fill('5');
    await page.locator('#layer-0-kernelSize:not([aria-invalid])').waitFor(LONG);
    await page.locator('#layer-0-padding').selectOption('same');

    // By keyboard: adding a layer puts the focus on its type, visibly; removing it gives the focus back.
    await page.locator('#add-layer').focus();
    await page.keyboard.press('Enter');
    await page.locator('#layer-8-type:focus').waitFor(LONG);
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.getByRole('button', { name: 'Remove layer 9' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#layer-7-type:focus').waitFor(LONG);
    expect(await page.locator('.layer-card').count()).toBe(8);
    await planTable.getByText('3,274,634').or(page.locator('.plan-totals').getByText('3,274,634')).first().waitFor(LONG);

    // A Keras document pasted in the JSON tab replaces the model; the plan follows it.
    await page.getByRole('tab', { name: 'JSON' }).click();
    const keras = {
      class_name: 'Sequential',
      config: {
        name: 'pasted',
        layers: [
          {
            class_name: 'Conv2D',
            config: { name: 'conv', batch_input_shape: [null, 28, 28, 1], filters: 8, kernel_size: [3, 3], strides: [2, 2], padding: 'valid', activation: 'relu' },
          },
          { class_name: 'Flatten', config: { name: 'flat' } },
          { class_name: 'Dense', config: { name: 'out', units: 10, activation: 'softmax' } },
        ],
      },
      keras_version: '2.15.0',
      backend: 'tensorflow',
    };
    await page.getByLabel('Job body (JSON)').fill(JSON.stringify(keras));
    await planTable.getByText('⌊(28 − 3 + 2·0)/2⌋ + 1 = 13').waitFor(LONG);
    await page.getByRole('tab', { name: 'Form' }).click();
    await page.getByText('This model is a Keras document').waitFor(LONG);
    await page.reload();
    await page.locator('main[data-route="new"][aria-busy="false"]').waitFor(LONG);
    await planTable.getByText('(14 − 2 + 2·0)/2 + 1 = 7').waitFor(LONG);
    await planTable.getByText('(14 − 2 + 2·0)/2 + 1 = 7').waitFor(LONG);
  });

  it('submits a small job and draws its curve points while it trains', async () => {
    await page.locator('#job-name').fill('browser-lesson');
    await page.locator('#job-limit').fill('2000');
    await page.locator('#training-epochs').fill('3');
    await page.locator('#training-batchSize').fill('32');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.locator('.job-page').waitFor(LONG);
    trainedJobId = (await page.locator('.job-page').getAttribute('data-job-id')) ?? '';
    expect(page.url()).toContain(`#/jobs/${trainedJobId}`);

    // A point of the curves appears while the job is still running.
    await page.locator('html:has(.chart-grid[data-epoch-points]:not([data-epoch-points="0"])):has(.page-head .badge.status-running)').waitFor(LONG);
    expect(await dataNumber('.chart-grid', 'data-epoch-points')).toBeGreaterThanOrEqual(1);
    // Per-batch points (the running mean of the epoch) come with the progress events.
    await page.locator('.chart-grid[data-batch-points]:not([data-batch-points="0"])').waitFor(LONG);
    expect(await page.locator('.epochs-table tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(Number(await page.locator('progress[aria-label="Training progress"]').getAttribute('value'))).toBeGreaterThan(0);
    await chrome.screenshot('job-running-1280');
  });

  it('cancels another job from its page', async () => {
    // Queued behind the first (one worker, one job at a time).
    const other = await stack.call<{ id: string }>('POST', '/v1/jobs', {
      name: 'browser-cancel-me',
      model: {
        input: { shape: [28, 28, 1] },
        layers: [{ type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, activation: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }],
      },
      training: { epochs: 100, batchSize: 16 },
      dataset: { id: 'mnist', limit: 500 },
    });
    expect(other.status).toBe(202);
    await page.goto(`${stack.baseUrl}/#/jobs/${other.body.id}`);
    await page.locator(`main[aria-busy="false"] .job-page[data-job-id="${other.body.id}"]`).waitFor(LONG);
    const cancel = page.getByRole('button', { name: 'Cancel job' });
    await cancel.waitFor(LONG);
    await cancel.click();
    await page.locator('.page-head .badge.status-cancelled').waitFor(LONG);
    expect(await cancel.isHidden()).toBe(true);
    const job = await stack.call<{ status: string }>('GET', `/v1/jobs/${other.body.id}`);
    expect(job.body.status).toBe('cancelled');

    // The list shows both, and filters by state.
    await page.getByRole('link', { name: 'Jobs' }).first().click();
    await page.locator(`tr[data-job-id="${other.body.id}"]`).waitFor(LONG);
    await page.getByLabel('State').selectOption('cancelled');
    await page.locator(`tr[data-job-id="${trainedJobId}"]`).waitFor({ state: 'detached', ...LONG });
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.getByLabel('State').selectOption('');
    await page.locator(`tr[data-job-id="${trainedJobId}"]`).waitFor(LONG);
    await chrome.screenshot('jobs-1280');
  });

  it('trains to the end; a digit drawn with the mouse gets a prediction', async () => {
    // The jobs list (where the last test left us) shows the job succeed without a reload.
    await page.locator(`tr[data-job-id="${trainedJobId}"]`).waitFor(LONG);
    await page.evaluate('window.stillThisPage = true');
    await page.locator(`tr[data-job-id="${trainedJobId}"] .badge.status-succeeded`).waitFor({ timeout: 240_000 });
    expect(await page.evaluate('window.stillThisPage')).toBe(true);
    const done = await waitFor(
      () => stack.call<{ status: string; modelId: string | null }>('GET', `/v1/jobs/${trainedJobId}`),
      (r) => ['succeeded', 'failed', 'cancelled'].includes(r.body.status),
      {
        timeoutMs: 240_000,
        intervalMs: 500,
        what: 'the browser job to finish',
      },
    );
    expect(done.body.status).toBe('succeeded');
    await page.goto(`${stack.baseUrl}/#/jobs/${trainedJobId}`);
    await page.locator('.epochs-table tbody tr').nth(2).waitFor(LONG);
    await chrome.screenshot('job-done-1280');
    // "Edit as new job" starts the editor from this job's model and settings.
    await page.getByRole('link', { name: 'Edit as new job' }).click();
    await page.locator('main[data-route="new"][aria-busy="false"]').waitFor(LONG);
    await page.getByText('Prefilled from').waitFor(LONG);
    expect(await page.locator('#job-name').inputValue()).toBe('browser-lesson-copy');
    expect(await page.locator('#training-epochs').inputValue()).toBe('3');
    expect(await page.locator('#job-limit').inputValue()).toBe('2000');
    await page.goBack();
    await page.locator('main[data-route="job"][aria-busy="false"]').waitFor(LONG);
    await page.getByRole('link', { name: 'Open the model' }).click();
    const pad = page.getByRole('img', { name: /Drawing pad/ });
    await pad.waitFor(LONG);

    const instances: number[][] = [];
    const onRequest = (req: Request) => {
      if (req.url().endsWith('/predict')) instances.push(...(req.postDataJSON() as { instances: number[][] }).instances);
    };
    page.on('request', onRequest);
    // A "1": one vertical stroke, slightly slanted, off to the left of the pad.
    const box = (await pad.boundingBox())!;
    const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];
    await page.mouse.move(...at(0.4, 0.15));
    await page.mouse.down();
    for (let i = 1; i <= 15; i++) await page.mouse.move(...at(0.4 - 0.06 * (i / 15), 0.15 + 0.7 * (i / 15)));
    await page.mouse.up();
    await page.locator('.probabilities[data-predicted]:not([data-predicted=""])').waitFor(LONG);
    page.off('request', onRequest);

    const predicted = await page.locator('.probabilities').getAttribute('data-predicted');
    expect(predicted).toMatch(/^[0-9]$/);
    expect(await page.locator('.top-classes li').count()).toBe(3);
    // What was sent is an MNIST-like instance: 784 values in 0..1, its mass at the centre.
    const sent = instances.at(-1)!;
    expect(sent).toHaveLength(784);
    expect(Math.min(...sent)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...sent)).toBe(1);
    let t = 0;
    let mx = 0;
    let my = 0;
    sent.forEach((v, i) => {
      t += v;
      mx += v * ((i % 28) + 0.5);
      my += v * (Math.floor(i / 28) + 0.5);
    });
    expect(Math.abs(mx / t - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(my / t - 14)).toBeLessThanOrEqual(0.5);
    await chrome.screenshot('model-draw-1280');

    // Download the artifact (fetched with the key, never a key in a link), then register it and point an alias at it.
    const [file] = await Promise.all([page.waitForEvent('download', LONG), page.getByRole('button', { name: 'Download model.json' }).click()]);
    expect(file.suggestedFilename()).toBe('model.json');
    expect(file.url()).toMatch(/^blob:/);
    await page.getByLabel('Registered model name').fill('browser-digits');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.locator('main[data-route="registered"][aria-busy="false"]').waitFor(LONG);
    await page.getByLabel('Alias', { exact: true }).fill('production');
    await page.getByRole('button', { name: 'Set alias' }).click();
    await page.locator('.alias-list').getByText('@production → v1').waitFor(LONG);
    const registered = await stack.call<{ aliases: { alias: string; version: number }[] }>('GET', '/v1/registered-models/browser-digits');
    expect(registered.body.aliases).toEqual([{ alias: 'production', version: 1 }]);
    await chrome.screenshot('registry-1280');
  });

  it('uploads a dataset with a progress bar, then shows its class histogram, statistics and samples', async () => {
    await page.goto(`${stack.baseUrl}/#/datasets`);
    await page.getByRole('heading', { name: 'Datasets', level: 1 }).waitFor(LONG);
    await page.getByLabel('Format').selectOption('csv');
    await page.getByLabel('Name', { exact: true }).fill('browser-iris-like');
    const rows = ['a,b,c,d,species'];
    for (let i = 0; i < 90; i++) rows.push(`${(i % 7) + 0.5},${(i % 5) * 0.3},${i % 3},${(i * 7) % 11},${['setosa', 'versicolor', 'virginica'][i % 3]}`);
    await page.getByLabel('CSV file').setInputFiles({ name: 'iris-like.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('.dataset-page').waitFor(LONG);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('browser-iris-like');
    await page.getByRole('img', { name: /Examples per class: setosa: 30, versicolor: 30, virginica: 30/ }).waitFor(LONG);
    expect(await page.locator('.dataset-page').textContent()).toMatch(/channel|gray/);
    expect(await page.locator('.dataset-page table').count()).toBeGreaterThanOrEqual(2);
    await chrome.screenshot('dataset-1280');

    // Train on it: flat examples get a small dense network; its model takes feature fields.
    await page.getByRole('link', { name: 'Train on it' }).click();
    await page.locator('main[data-route="new"][aria-busy="false"]').waitFor(LONG);
    await page.locator('.plan-totals').getByText('output').waitFor(LONG);
    expect(await page.locator('#model-input').inputValue()).toBe('4');
    await page.locator('#training-epochs').fill('20');
    await page.getByRole('button', { name: 'Start training' }).click();
    await page.locator('main[data-route="job"][aria-busy="false"]').waitFor(LONG);
    await page.getByRole('link', { name: 'Open the model' }).waitFor(LONG);
    await page.getByRole('link', { name: 'Open the model' }).click();
    await page.getByLabel('Feature 4').waitFor(LONG);
    await page.getByLabel('Feature 1').fill('2.5');
    await page.getByLabel('Feature 3').fill('2');
    await page.getByRole('button', { name: 'Predict' }).click();
    await page.locator('.probabilities[data-predicted]:not([data-predicted=""])').waitFor(LONG);
    expect(['setosa', 'versicolor', 'virginica']).toContain(await page.locator('.probabilities').getAttribute('data-predicted'));
    await chrome.screenshot('model-tabular-1280');

    // A broken upload is refused with the reason, next to the form.
    await page.goto(`${stack.baseUrl}/#/datasets`);
    await page.getByLabel('Format').selectOption('csv');
    await page.getByLabel('CSV file').setInputFiles({ name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b,label\n1,2\n') });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('.upload-form .notice.error').waitFor(LONG);
  });

  it('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const modelId = (await stack.call<{ modelId: string }>('GET', `/v1/jobs/${trainedJobId}`)).body.modelId;
    for (const [hash, route, name] of [
      [`#/models/${modelId}`, 'model', 'model'],
      [`#/jobs/${trainedJobId}`, 'job', 'job'],
      ['#/jobs', 'jobs', 'jobs'],
      ['#/new', 'new', 'new-job'],
      [`#/compare?ids=${trainedJobId}`, 'compare', 'compare'],
      ['#/datasets', 'datasets', 'datasets'],
    ]) {
      await page.goto(`${stack.baseUrl}/${hash}`);
      // The view is rendered (the console marks main with its route once it is).
      await page.locator(`main[data-route="${route}"][aria-busy="false"]`).waitFor(LONG);
      // Nothing is wider than the screen (tables scroll inside their own box).
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(overflow, name).toBeLessThanOrEqual(0);
      await chrome.screenshot(`${name}-390`);
    }
    // Changing the key forgets it and asks again.
    await page.getByRole('button', { name: 'Change key' }).click();
    await page.getByLabel('API key').waitFor(LONG);
    expect(await page.evaluate("sessionStorage.getItem('trainyard.apiKey')")).toBeNull();
    expect(await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')).toBeLessThanOrEqual(0);
    await chrome.screenshot('key-prompt-390');
  });

  it('ran without a script error or a Content-Security-Policy violation', () => {
    // The browser logs the answers the console expects and shows: the wrong key's 401, the bad kernel's and the broken CSV's 400.
    const expected = /Failed to load resource: the server responded with a status of (400 \(Bad Request\)|401 \(Unauthorized\))/;
    expect(chrome.problems.filter((p) => !expected.test(p))).toEqual([]);
  });
});
