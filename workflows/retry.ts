// Plain data, shared by the workflows and the plan that builds their input (no SDK imports).

/** A unit's retry policy when neither the unit nor its batch declares one. */
export const DEFAULT_UNIT_RETRY = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '1m',
  maximumAttempts: 3,
} as const;
