import { SingleBar, Presets } from 'cli-progress';
import type { RunProgress } from '../contracts/types';

/**
 * A live bar of finished jobs out of those dispatched so far (the trigger pages, so the total grows).
 * Draws only on a terminal; elsewhere the closing summary is the output.
 */
export function createProgressBar(label: string) {
  const started = Date.now();
  const bar = new SingleBar(
    {
      format: `${label} |{bar}| {value}/{total} done | {failed} failed | {inFlight} in flight | {rate} units/s`,
      hideCursor: true,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  bar.start(0, 0, { failed: 0, inFlight: 0, rate: '0' });
  return {
    update(progress: RunProgress) {
      const finished = progress.succeeded + progress.failed + progress.skipped;
      const rate = (finished / Math.max((Date.now() - started) / 1000, 0.001)).toFixed(0);
      bar.setTotal(progress.total);
      bar.update(finished, { failed: progress.failed, inFlight: progress.inFlight, rate });
    },
    /** A line above the bar (the bar redraws below it). */
    log(line: string) {
      if (process.stderr.isTTY) {
        process.stderr.write(`\r\x1b[K${line}\n`);
        bar.render();
      } else {
        process.stderr.write(`${line}\n`);
      }
    },
    stop: () => bar.stop(),
  };
}
