/**
 * Stops one unit run: tells its session to close the connection (PostgreSQL rolls the transaction back) and
 * aborts the unit's `ctx.signal`. The signal is made only when the unit reads it: making an AbortSignal and
 * listening on it costs a few microseconds, which a bulk lane of short units pays on every target otherwise.
 * Built on a caller's own `AbortSignal`, it follows that one instead.
 */
export class UnitStop {
  private controller?: AbortController;
  private stopped?: { reason: unknown };
  private listener?: () => void;

  constructor(private readonly given?: AbortSignal) {}

  get aborted(): boolean {
    return this.stopped !== undefined || this.given?.aborted === true;
  }

  get reason(): unknown {
    return this.stopped ? this.stopped.reason : this.given?.reason;
  }

  /** What the unit sees as `ctx.signal`. */
  get signal(): AbortSignal {
    if (this.given) return this.given;
    this.controller ??= new AbortController();
    if (this.stopped && !this.controller.signal.aborted) this.controller.abort(this.stopped.reason);
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = { reason };
    this.controller?.abort(reason);
    this.listener?.();
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Calls `listener` once when the run is stopped (the session's: it closes the connection); returns its removal. */
  onAbort(listener: () => void): () => void {
    this.listener = listener;
    const given = this.given;
    const follow = () => this.abort(given!.reason);
    given?.addEventListener('abort', follow, { once: true });
    return () => {
      this.listener = undefined;
      given?.removeEventListener('abort', follow);
    };
  }
}
