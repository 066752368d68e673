import type { RunSummary } from '../../workflows/types';

export const formatCounts = (c: RunSummary): string =>
  `total ${c.total}, succeeded ${c.succeeded}, failed ${c.failed}, skipped ${c.skipped}`;
