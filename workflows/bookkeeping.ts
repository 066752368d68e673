import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Activities } from '../activities';

/**
 * The trigger's own reads and writes (its pages, history row, settlements, hooks' events): short database work
 * that must not be lost to an outage, so it is retried until it lands, at most a minute apart.
 */
export const BOOKKEEPING: ActivityOptions = { startToCloseTimeout: '1m', retry: { maximumInterval: '1m' } };

export const bookkeeping = proxyActivities<Activities>(BOOKKEEPING);
