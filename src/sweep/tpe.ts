import { canonicalJson } from '../infra/canonical-json.js';
import type { Distribution, SweepDimension } from '../queue/sweep-document.js';
import { roundSample } from './samplers.js';
import type { TrialParams } from './space.js';

/**
 * Tree-structured Parzen Estimator (Bergstra et al., 2011), one dimension at
 * a time as in hyperopt and Optuna's default: finished trials are split into
 * the best few ("below") and the rest; each dimension gets a density l(x)
 * from the good trials' values and g(x) from the others'; candidates are
 * drawn from l, and the one with the highest l(x) / g(x) is chosen.
 * Deterministic for given observations and generator.
 */

/** A finished trial as TPE sees it: its parameters and a loss (lower is better). */
export interface Observation {
  params: TrialParams;
  loss: number;
}

/** Candidates drawn from l(x) per dimension; the best ratio wins. */
export const TPE_CANDIDATES = 24;

/** How many of `n` observations count as good: 10%, at least 1, at most 25 (Optuna's default). */
export function goodCount(n: number): number {
  return Math.max(1, Math.min(Math.ceil(0.1 * n), 25));
}

export function tpeSuggest(space: SweepDimension[], observations: Observation[], rng: () => number): TrialParams {
  // Stable: equal losses keep the trials' order.
  const ranked = observations.map((o, i) => ({ ...o, i })).sort((a, b) => a.loss - b.loss || a.i - b.i);
  const cut = goodCount(ranked.length);
  const good = ranked.slice(0, cut);
  const bad = ranked.slice(cut);
  return Object.fromEntries(
    space.map((dim) => {
      const values = (list: typeof ranked) => list.map((o) => o.params[dim.path]).filter((v) => v !== undefined);
      return [dim.path, suggestDimension(dim.distribution, values(good), values(bad), rng)];
    }),
  );
}

function suggestDimension(d: Distribution, good: unknown[], bad: unknown[], rng: () => number): unknown {
  if (d.values) return suggestChoice(d.values, good, bad, rng);
  const axis = numericAxis(d);
  const toAxis = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? axis.to(v) : null);
  const l = parzen(
    good.map(toAxis).filter((t): t is number => t !== null && t >= axis.low && t <= axis.high),
    axis.low,
    axis.high,
  );
  const g = parzen(
    bad.map(toAxis).filter((t): t is number => t !== null && t >= axis.low && t <= axis.high),
    axis.low,
    axis.high,
  );
  let best: { value: number; score: number } | null = null;
  for (let c = 0; c < TPE_CANDIDATES; c++) {
    const value = axis.from(sampleMixture(l, axis.low, axis.high, rng));
    const t = axis.to(value);
    const score = logDensity(l, t, axis.low, axis.high) - logDensity(g, t, axis.low, axis.high);
    if (best === null || score > best.score) best = { value, score };
  }
  return best!.value;
}

/** A numeric dimension as a line TPE works on: log scale for logUniform; integers widened by half a step each side. */
function numericAxis(d: Distribution): { low: number; high: number; to(v: number): number; from(t: number): number } {
  if (d.logUniform) {
    const [low, high] = d.logUniform;
    return { low: Math.log(low), high: Math.log(high), to: Math.log, from: (t) => roundSample(Math.exp(t), low, high) };
  }
  if (d.intUniform) {
    const [low, high] = d.intUniform;
    return { low: low - 0.5, high: high + 0.5, to: (v) => v, from: (t) => Math.min(high, Math.max(low, Math.round(t))) };
  }
  const [low, high] = d.uniform!;
  return { low, high, to: (v) => v, from: (t) => roundSample(t, low, high) };
}

interface Mixture {
  mus: number[];
  sigmas: number[];
}

/**
 * Adaptive Parzen estimator: a Gaussian at each point, as wide as the larger
 * gap to its neighbours (clipped), plus a wide prior over the whole range,
 * all weighted equally.
 */
function parzen(points: number[], low: number, high: number): Mixture {
  const span = high - low;
  const prior = (low + high) / 2;
  const mus = [...points, prior].sort((a, b) => a - b);
  const minSigma = span / Math.min(100, 1 + mus.length);
  const sigmas = mus.map((mu, i) => {
    const left = i > 0 ? mus[i - 1] : low;
    const right = i < mus.length - 1 ? mus[i + 1] : high;
    return Math.min(span, Math.max(minSigma, mu - left, right - mu));
  });
  // The prior keeps its full width.
  const p = mus.indexOf(prior);
  sigmas[p] = span;
  return { mus, sigmas };
}

function sampleMixture(m: Mixture, low: number, high: number, rng: () => number): number {
  const k = Math.min(m.mus.length - 1, Math.floor(rng() * m.mus.length));
  const mu = m.mus[k];
  const sigma = m.sigmas[k];
  for (let tries = 0; tries < 64; tries++) {
    const x = mu + sigma * standardNormal(rng);
    if (x >= low && x <= high) return x;
  }
  return Math.min(high, Math.max(low, mu));
}

/** Box-Muller. */
function standardNormal(rng: () => number): number {
  const u = Math.max(rng(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** log of the mixture's density at x, each Gaussian truncated to [low, high]. */
function logDensity(m: Mixture, x: number, low: number, high: number): number {
  let sum = 0;
  for (let k = 0; k < m.mus.length; k++) {
    const mu = m.mus[k];
    const sigma = m.sigmas[k];
    const mass = normalCdf((high - mu) / sigma) - normalCdf((low - mu) / sigma);
    const z = (x - mu) / sigma;
    sum += Math.exp(-0.5 * z * z) / (sigma * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
  }
  return Math.log(Math.max(sum / m.mus.length, Number.MIN_VALUE));
}

function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** Abramowitz and Stegun 7.1.26 (error below 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  return sign * (1 - poly * Math.exp(-a * a));
}

/** Categorical TPE: each choice's share among the good and the other trials, smoothed by one prior observation spread over all choices. */
function suggestChoice(choices: unknown[], good: unknown[], bad: unknown[], rng: () => number): unknown {
  const keys = choices.map((c) => canonicalJson(c));
  const weights = (seen: unknown[]) => {
    const counts = new Map<string, number>();
    for (const v of seen) {
      const key = canonicalJson(v);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const total = seen.length + 1;
    return keys.map((k) => ((counts.get(k) ?? 0) + 1 / keys.length) / total);
  };
  const l = weights(good);
  const g = weights(bad);
  let best: { index: number; score: number } | null = null;
  for (let c = 0; c < TPE_CANDIDATES; c++) {
    let u = rng() * l.reduce((a, b) => a + b, 0);
    let index = 0;
    while (index < l.length - 1 && u >= l[index]) u -= l[index++];
    const score = Math.log(l[index]) - Math.log(g[index]);
    if (best === null || score > best.score) best = { index, score };
  }
  return choices[best!.index];
}
