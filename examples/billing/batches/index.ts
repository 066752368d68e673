// Every batch of this app: a worker runs all of them; the CLI and client can trigger any of them.
import type { Batch } from 'tju';
import { issueInvoices } from './issue-invoices';

export const batches: Batch[] = [issueInvoices];
