import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * What a client generated from the committed openapi.yaml by openapi-typescript
 * lets its users write: the calls below must compile, and the lines marked
 * @ts-expect-error must not (an unused @ts-expect-error is itself an error).
 */
const CLIENT = `
import type { components, operations } from './api';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Schemas = components['schemas'];

// Submit a job with the lesson's MNIST network.
const submit: Json<operations['createJob']['requestBody']> = {
  name: 'seed-mnist',
  model: {
    input: { shape: [28, 28, 1] },
    layers: [
      { type: 'conv2d', filters: 32, kernelSize: 5, strides: 1, padding: 'same', activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2, strides: 2, padding: 'same' },
      { type: 'conv2d', filters: 64, kernelSize: [5, 5], padding: 'same', activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 1024, activation: 'relu' },
      { type: 'dropout', rate: 0.25 },
      { type: 'dense', units: 10, activation: 'softmax' },
    ],
  },
  training: { optimizer: 'adam', learningRate: 0.001, epochs: 2, batchSize: 64, validationSplit: 0.1, seed: 42 },
  dataset: { id: 'mnist', limit: 2000 },
};
declare const accepted: Json<operations['createJob']['responses'][202]>;
const status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelling' | 'cancelled' = accepted.status;

// Read the job back.
const params: operations['getJob']['parameters']['path'] = { id: accepted.id };
declare const job: Json<operations['getJob']['responses'][200]>;
const percent: number = job.progress.percent;
const modelId: string | null = job.modelId;
declare const notFound: operations['getJob']['responses'][404]['content']['application/problem+json'];
const code: string = notFound.code;

// Predict with the trained model.
const predict: Json<operations['predictModel']['requestBody']> = { instances: [[0, 0.5, 1]] };
declare const prediction: Json<operations['predictModel']['responses'][200]>;
const classes: number[] = prediction.classes;

// Plan takes the bare model or the job's { model }.
const bare: Json<operations['planModel']['requestBody']> = submit.model;
const wrapped: Json<operations['planModel']['requestBody']> = { model: submit.model };
declare const plan: Json<operations['planModel']['responses'][200]>;
const totalParams: number = plan.totalParams;

// Serving protocols.
const tfserving: Json<operations['tfservingPredict']['requestBody']> = { instances: [[1, 2, 3]] };
const inception: Schemas['LayerSpec'] = { type: 'inception', branches: [[{ type: 'conv2d', filters: 8, kernelSize: 1 }], [{ type: 'maxPool2d' }]] };

// @ts-expect-error conv3d is not a layer type
const wrongType: Schemas['LayerSpec'] = { type: 'conv3d', filters: 8, kernelSize: 3 };
// @ts-expect-error kernelSize is a number or [height, width], not a string
const stringKernel: Schemas['LayerSpec'] = { type: 'conv2d', filters: 8, kernelSize: '5' };
// @ts-expect-error the same mistakes inside a job's model
const badJob: Json<operations['createJob']['requestBody']> = { model: { input: { shape: [28, 28, 1] }, layers: [{ type: 'conv3d', kernelSize: '5' }] }, dataset: { id: 'mnist' } };
// @ts-expect-error a dense layer inside an inception branch
const badBranch: Schemas['LayerSpec'] = { type: 'inception', branches: [[{ type: 'dense', units: 4 }], [{ type: 'flatten' }]] };
// @ts-expect-error an input shape is [h, w, c] or [features]
const badShape: Schemas['ModelSpec'] = { input: { shape: [28, 28] }, layers: [{ type: 'flatten' }] };

export { params, status, percent, modelId, code, predict, classes, bare, wrapped, totalParams, tfserving, inception, wrongType, stringKernel, badJob, badBranch, badShape };
`;

/** Generates types from `document` and type-checks the client against them; the diagnostics, empty when it compiles. */
async function typeCheckClient(document: object): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'trainyard-typed-client-'));
  try {
    // Fields with a default are optional in requests: generate as the API description's info tells clients to.
    await writeFile(path.join(dir, 'api.d.ts'), astToString(await openapiTS(document as never, { defaultNonNullable: false })));
    const client = path.join(dir, 'client.ts');
    await writeFile(client, CLIENT);
    const program = ts.createProgram([client], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: [],
      skipLibCheck: true,
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.start !== undefined ? `${path.basename(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} ` : '';
      return `${where}TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const committed = async () => parse(await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as Record<string, any>;

describe('a client typed from openapi.yaml', () => {
  it('submits, reads and predicts, and refuses a wrong layer type or a string kernelSize', async () => {
    expect(await typeCheckClient(await committed())).toEqual([]);
  });

  it('fails when the document loses the layer types (the check can fail)', async () => {
    const doc = await committed();
    // What the document said before it was typed: the model as an untyped if/then/else, which generators make `unknown`.
    doc.components.schemas.ModelInput = { if: { type: 'object', required: ['keras'] }, then: {}, else: {} };
    doc.components.schemas.Conv2dLayer.properties.kernelSize = {};
    const diagnostics = await typeCheckClient(doc);
    expect(diagnostics.filter((d) => d.includes("TS2578 Unused '@ts-expect-error' directive")).length).toBeGreaterThanOrEqual(2);
  });
});
