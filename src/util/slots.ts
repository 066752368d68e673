/**
 * A counting semaphore: at most `size` holders at once, the others queued in order. What bounds the units a
 * worker process runs at once, whatever runs them (local or regular activities, rate-limited queues, bulk
 * lanes).
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Whether a unit is waiting for a slot: a lane holding one between its targets gives it up then. */
  get contended(): boolean {
    return this.waiting.length > 0;
  }

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const take = () => {
        signal?.removeEventListener('abort', abort);
        resolve(this.releaser());
      };
      const abort = () => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(signal!.reason);
      };
      this.waiting.push(take);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}
