// Every batch of the shop: a worker runs all of them; the CLI and client can trigger any of them.
import type { Batch } from 'tju';
import { processOrders } from './process-orders';

export const batches: Batch[] = [processOrders];
