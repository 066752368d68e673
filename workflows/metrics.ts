import { proxySinks } from '@temporalio/workflow';
import type { TjuMetricSinks } from '../src/contracts/metrics';

const { tjuMetrics } = proxySinks<TjuMetricSinks>();

export const countMetric = (name: string, help: string, labels: Record<string, string>, value = 1): void =>
  tjuMetrics.count(name, help, value, labels);
