/**
 * The wall clock of one sitting (one call of `fit()`; a resumed run is several sittings) and its
 * optional time limit. The limit is per sitting: a resumed run gets the full limit again.
 */
export class SittingClock {
  private readonly startedAt = Date.now();
  private readonly limitSeconds: number | undefined;
  private stopped = false;

  constructor(timeLimitMinutes?: number) {
    this.limitSeconds = timeLimitMinutes !== undefined ? timeLimitMinutes * 60 : undefined;
  }

  /** Seconds since this sitting started. */
  seconds(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Checks the limit (after every step); once it has passed, the sitting stays out of time. */
  checkLimit(): boolean {
    if (this.limitSeconds !== undefined && this.seconds() >= this.limitSeconds) this.stopped = true;
    return this.stopped;
  }

  /** True once checkLimit found the limit passed. */
  get outOfTime(): boolean {
    return this.stopped;
  }
}
