/**
 * A page cut into consecutive slices of `size` (the last may be shorter): its jobs' chunks. Plain code, shared
 * by the trigger and by the page fetch that stages bulk chunks.
 */
export function slices<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}
