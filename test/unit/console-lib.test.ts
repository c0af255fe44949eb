import { describe, expect, it } from 'vitest';
import * as fmt from '../../src/console/lib/format.js';
import { parseRoute } from '../../src/console/lib/router.js';
import { bodyFromJson, type JobBody, nearestPath, parseNumber, parseWindow } from '../../src/console/lib/spec-input.js';
import { SseParser } from '../../src/console/lib/sse.js';

describe('SseParser', () => {
  it('reads events split across chunks anywhere, with ids, multi-line data, comments and retry', () => {
    const p = new SseParser();
    const stream =
      'retry: 2000\n\nid: 7\nevent: state\ndata: {"status":"running"}\n\n: keep-alive\n\nevent: progress\ndata: {"a":1,\ndata: "b":2}\n\nid: 8\r\nevent: end\r\ndata: {}\r\n\r\n';
    const events = [];
    for (let i = 0; i < stream.length; i += 5) events.push(...p.push(stream.slice(i, i + 5)));
    expect(events).toEqual([
      { event: 'message', data: '', retry: 2000 },
      { event: 'state', data: '{"status":"running"}', id: '7' },
      // An event without an id of its own carries the last id seen (Last-Event-ID).
      { event: 'progress', data: '{"a":1,\n"b":2}', id: '7' },
      { event: 'end', data: '{}', id: '8' },
    ]);
    expect(p.lastEventId).toBe('8');
  });

  it('waits for the end of a line before dispatching, even after a lone \\r', () => {
    const p = new SseParser();
    expect(p.push('event: end\r')).toEqual([]);
    expect(p.push('\ndata: 1\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'end', data: '1' }]);
  });
});

describe('console formatting', () => {
  it.each([
    [fmt.count(3274634), '3,274,634'],
    [fmt.compact(3274634), '3.27 M'],
    [fmt.compact(13_900_000), '13.9 M'],
    [fmt.compact(832), '832'],
    [fmt.metric(0.123456), '0.1235'],
    [fmt.metric(null), '—'],
    [fmt.rate(0.001), '0.001'],
    [fmt.rate(0.00021345), '0.000213'],
    [fmt.rate(1e-7), '1e-7'],
    [fmt.rate(null), '—'],
    [fmt.percent(0.97312), '97.3%'],
    [fmt.duration(900), '0.9s'],
    [fmt.duration(83_000), '1m 23s'],
    [fmt.duration(5_400_000), '1h 30m'],
    [fmt.bytes(1536), '1.5 KiB'],
    [fmt.bytes(13_098_536), '12 MiB'],
    [fmt.shape([14, 14, 32]), '14×14×32'],
  ])('%s is %s', (actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('estimates the time left from the progress and the time spent', () => {
    expect(fmt.eta(25, 60_000)).toBe(180_000);
    expect(fmt.eta(0, 60_000)).toBeNull();
    expect(fmt.eta(100, 60_000)).toBeNull();
  });
});

describe('spec input', () => {
  it('reads window sizes as a number or a pair, and keeps anything else for the API to name', () => {
    expect(parseWindow('5')).toBe(5);
    expect(parseWindow(' 5, 3 ')).toEqual([5, 3]);
    expect(parseWindow('5x3')).toEqual([5, 3]);
    expect(parseWindow('five')).toBe('five');
    expect(parseNumber('0.25')).toBe(0.25);
    expect(parseNumber('1e-3')).toBe(0.001);
    expect(parseNumber('abc')).toBe('abc');
  });

  it('finds the nearest control for an error path', () => {
    const known = new Set(['model.layers[2]', 'model.layers[2].kernelSize', 'training.epochs']);
    expect(nearestPath(known, 'model.layers[2].kernelSize[1]')).toBe('model.layers[2].kernelSize');
    expect(nearestPath(known, 'model.layers[2].branches[0][1].filters')).toBe('model.layers[2]');
    expect(nearestPath(known, 'training.epochs')).toBe('training.epochs');
    expect(nearestPath(known, 'dataset.limit')).toBeUndefined();
  });

  it('takes a pasted job body, a bare model or a Keras document', () => {
    const current: JobBody = {
      name: 'x',
      model: { input: { shape: [28, 28, 1] }, layers: [] },
      training: { epochs: 2 },
      dataset: { id: 'mnist' },
    };
    const model = {
      input: { shape: [4] },
      layers: [{ type: 'dense', units: 3 }],
    };
    expect(bodyFromJson({ model, training: {}, dataset: { id: 'd' } }, current)).toEqual({ model, training: {}, dataset: { id: 'd' } });
    expect(bodyFromJson(model, current)).toEqual({ ...current, model });
    const keras = { class_name: 'Sequential', config: { layers: [] } };
    expect(bodyFromJson(keras, current)).toEqual({
      ...current,
      model: { keras },
    });
    expect(bodyFromJson({ modelTopology: {} }, current).model).toEqual({
      keras: { modelTopology: {} },
    });
    expect(bodyFromJson({ keras }, current).model).toEqual({ keras });
    expect(() => bodyFromJson([1], current)).toThrow(/must be an object/);
    expect(() => bodyFromJson({ foo: 1 }, current)).toThrow(/not a job body/);
  });
});

describe('console routes', () => {
  it('reads views and their parameters from the hash', () => {
    expect(parseRoute('')).toMatchObject({ name: 'jobs' });
    expect(parseRoute('#/jobs/abc')).toMatchObject({
      name: 'job',
      params: { id: 'abc' },
    });
    expect(parseRoute('#/compare?ids=a,b').query.get('ids')).toBe('a,b');
    expect(parseRoute('#/registry/my%20model')).toMatchObject({
      name: 'registered',
      params: { name: 'my model' },
    });
    expect(parseRoute('#/nope')).toMatchObject({ name: 'not-found' });
  });
});
