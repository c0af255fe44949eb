/** An engine asked for by name cannot run in this process. Retrying will not help. */
export class EngineUnavailableError extends Error {
  readonly code = 'ENGINE_UNAVAILABLE';

  constructor(
    readonly engine: string,
    readonly reason: string,
  ) {
    super(`engine '${engine}' is not available: ${reason}`);
    this.name = 'EngineUnavailableError';
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
