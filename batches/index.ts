// Every batch this app runs. A worker runs all of them; the CLI and client can trigger any of them.
import type { Batch } from '../src';
import { issueInvoices } from './billing/issue-invoices';

export const batches: Batch[] = [issueInvoices];
