/**
 * Runs `work` for each item in order, `concurrency` at a time: whenever one resolves, its lane starts the next
 * item. So the n-th command is always the n-th item's, whichever resolves first — what keeps a workflow's
 * commands the same on replay, where local activities resolve in the order they were scheduled.
 */
export async function inLanes<T>(items: Iterable<T>, concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  const list = [...items];
  let next = 0;
  const lane = async () => {
    while (next < list.length) await work(list[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, lane));
}
