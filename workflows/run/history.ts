import { condition, workflowInfo } from '@temporalio/workflow';
import { bookkeeping } from '../bookkeeping';
import type { RunRecordUpdate } from '../../src/contracts/types';
import type { RunState } from './state';

const { recordRun } = bookkeeping;

type Update = Pick<RunRecordUpdate, 'state' | 'finished' | 'counts' | 'reason'>;

/**
 * The run's row in tju's `run_history` (the run's own trigger, not each partition's): written at the start of
 * each run of its chain, on each pause and resume, and at its end — one write at a time, in order, so a pause
 * written after a resume can never leave the row saying paused.
 */
export class HistoryRecorder {
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly run: RunState) {}

  /** The first write of this run of the chain, then a coroutine that writes each pause and resume as it comes. */
  async start(continued: boolean): Promise<void> {
    const { run } = this;
    // A continued run brings the counts so far and the paused state it carried (a pause that came while the
    // last one drained included).
    const written = run.paused;
    await this.write({ state: written ? 'paused' : 'running', finished: false, ...(continued ? { counts: run.counts } : {}) });
    // A pause or resume that came while the first write was in flight is still to write: compare with what was
    // written, not with the state now.
    void (async () => {
      for (let recorded = written; ;) {
        await condition(() => run.paused !== recorded || run.done);
        if (run.done) return;
        recorded = run.paused;
        const held = run.paused && run.holdReason ? { reason: run.holdReason } : {};
        await this.write({ state: run.paused ? 'paused' : 'running', finished: false, counts: run.counts, ...held });
      }
    })();
  }

  /** The last write: how the run ended. */
  end(): Promise<void> {
    const { run } = this;
    return this.write({ state: run.stopped?.state ?? 'completed', finished: true, counts: run.counts, reason: run.stopped?.reason });
  }

  private write(update: Update): Promise<void> {
    const { input } = this.run;
    const info = workflowInfo();
    this.writes = this.writes.then(() =>
      recordRun({
        batch: input.batch,
        runKey: input.runKey,
        workflowId: info.workflowId,
        executionId: info.firstExecutionRunId,
        kind: input.source === 'failures' ? 'retry' : 'run',
        params: input.params,
        startedAt: info.startTime.toISOString(),
        ...update,
      }),
    );
    return this.writes;
  }
}
