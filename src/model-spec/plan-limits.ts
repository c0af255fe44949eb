/**
 * How large a model may be. Its own module, without imports, so that the
 * configuration can default the server's limits and tenant quotas to these
 * numbers without loading the compiler.
 */
export interface PlanLimits {
  /** Largest allowed total parameter count. Default {@link DEFAULT_PLAN_LIMITS}. */
  maxParams?: number;
  /** Largest allowed multiply-accumulates per example (forward pass). */
  maxMacs?: number;
}

/** About 200 MB of float32 weights and a few seconds per thousand examples on one CPU core. */
export const DEFAULT_PLAN_LIMITS: Required<PlanLimits> = {
  maxParams: 50_000_000,
  maxMacs: 5_000_000_000,
};
