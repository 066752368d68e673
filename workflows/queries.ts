import { defineQuery } from '@temporalio/workflow';
import type { RunProgress } from './types';

/** A trigger's live counts. Its own module, so clients can import it without the workflow code. */
export const progressQuery = defineQuery<RunProgress>('progress');
