import type { Batch } from './batch';
import { UserError } from './errors';

/**
 * A batch this process does not define: a mistake when a person names it, and work for another worker when a
 * job of it reaches this one (another app, or an older release during a deploy).
 */
export class UnknownBatchError extends UserError {
  override name = 'UnknownBatch';
}

/** The batches a worker runs and a client may trigger, by name. */
export class BatchRegistry {
  private readonly byName = new Map<string, Batch>();

  constructor(batches: readonly Batch[]) {
    for (const batch of batches) {
      if (this.byName.has(batch.name)) throw new Error(`batch "${batch.name}" is registered twice`);
      this.byName.set(batch.name, batch);
    }
  }

  get(name: string): Batch {
    const batch = this.byName.get(name);
    if (!batch) throw new UnknownBatchError(`unknown batch "${name}" (known: ${this.names().join(', ') || 'none'})`);
    return batch;
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  all(): Batch[] {
    return [...this.byName.values()];
  }
}
