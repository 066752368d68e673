// Bounds and defaults that the plan, the workflows and the activities must agree on.

/** Temporal refuses more than 2,000 pending children per workflow: a run's window stays well below. */
export const MAX_WINDOW = 1000;

/** A unit attempt's time when neither the unit nor its batch sets one. */
export const DEFAULT_UNIT_TIMEOUT = '1m';

/** A canary's most targets: it runs without continuing as new, so its jobs must fit one history. */
export const MAX_CANARY = 1000;
