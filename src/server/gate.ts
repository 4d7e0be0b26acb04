/**
 * A gate for costly work on the one event loop: at most `concurrency` holders at a time, the
 * others wait in arrival order. Every grant is handed out from a `setImmediate` callback, so
 * the I/O that arrived meanwhile (a health probe, another request's bytes) is served between two
 * holders: a burst of costly requests cannot keep `/readyz` waiting behind all of them, only
 * behind the one running (issue 11; measured by bench/introspection-health.bench.ts).
 */
export class Gate {
  private holders = 0;
  private readonly waiting: (() => void)[] = [];

  /** @param concurrency how many may hold the gate at once (≥ 1) */
  constructor(readonly concurrency = 1) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number ≥ 1, got ${concurrency}`);
    }
  }

  /** Holders now. */
  get active(): number {
    return this.holders;
  }

  /** Waiting now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Waits for a turn (always at least one turn of the event loop).
   * @returns the release function; calling it more than once has no further effect
   */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.holders++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.holders--;
          this.pump();
        });
      });
      this.pump();
    });
  }

  /** Runs `fn` holding the gate. */
  async run<T>(fn: () => T | Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private pump(): void {
    if (this.holders >= this.concurrency || this.waiting.length === 0) return;
    const next = this.waiting.shift()!;
    this.holders++; // reserved until the grant runs
    setImmediate(() => {
      this.holders--;
      next();
    });
  }
}
