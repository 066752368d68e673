// Everything the worker registers as workflows. This folder runs in Temporal's deterministic sandbox:
// no pg, no Node APIs, no clocks or randomness — only @temporalio/workflow and plain code.
export { triggerWorkflow } from './trigger';
export { progressQuery } from '../src/contracts/controls';
export { jobWorkflow } from './job';
export { chunkJobWorkflow } from './chunk';
export { scheduledRunWorkflow } from './scheduled';
