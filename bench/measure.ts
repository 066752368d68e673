import { rssMb } from './cpu';

/** Samples of one benchmark mode: units committed over time and the worker processes' memory. */
export class Recorder {
  readonly started = Date.now();
  private readonly latencies: number[] = [];
  private readonly finishes: number[] = [];
  readonly series: Array<{ t: number; done: number; rssMb: number }> = [];
  private peakRss = 0;
  private rssAtFirstThousand?: number;
  private readonly timer: NodeJS.Timeout;

  /** `workerPids`: whose memory to sample; this process's when empty. */
  constructor(
    private readonly targets: number,
    private readonly workerPids: number[] = [],
  ) {
    this.timer = setInterval(() => this.sample(), 250);
    this.sample();
  }

  /** One committed unit: from its scheduling (or call) to its commit. */
  unit(scheduledAt: number, finishedAt: number): void {
    this.latencies.push(finishedAt - scheduledAt);
    this.finishes.push(finishedAt);
    if (this.finishes.length === Math.min(1000, this.targets)) this.rssAtFirstThousand = rssMb(this.workerPids);
  }

  private sample(): void {
    const rss = rssMb(this.workerPids);
    this.peakRss = Math.max(this.peakRss, rss);
    this.series.push({ t: (Date.now() - this.started) / 1000, done: this.finishes.length, rssMb: rss });
  }

  finish(extra: Record<string, unknown> = {}) {
    clearInterval(this.timer);
    this.sample();
    // Sorted once, read by index: spreading a million numbers into Math.max overflows the call stack.
    const commits = [...this.finishes].sort((a, b) => a - b);
    const seconds = (commits[commits.length - 1] - this.started) / 1000;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    // The longest time no unit committed between the first commit and the last: a run that drains its
    // window at each continue-as-new shows it here.
    const longestPauseMs = commits.reduce((max, t, i) => (i ? Math.max(max, t - commits[i - 1]) : 0), 0);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
    return {
      units: this.finishes.length,
      seconds: round(seconds, 2),
      targetsPerSec: round(this.finishes.length / seconds, 0),
      p50Ms: pct(50),
      p99Ms: pct(99),
      firstUnitMs: commits[0] - this.started,
      longestPauseMs,
      peakRssMb: round(this.peakRss, 0),
      rssAtFirstThousandMb: round(this.rssAtFirstThousand ?? 0, 0),
      rssAtEndMb: round(rssMb(this.workerPids), 0),
      ...extra,
    };
  }
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));
