// The bound on units a worker process runs at once.
import { Slots } from '../../src/util/slots';

it('lets at most `size` hold a slot at once, the rest in order, and a waiter give up', async () => {
  const slots = new Slots(2);
  const order: string[] = [];
  const a = await slots.acquire();
  const b = await slots.acquire();
  const c = slots.acquire().then((release) => (order.push('c'), release));
  const stop = new AbortController();
  const d = slots.acquire(stop.signal);
  const e = slots.acquire().then((release) => (order.push('e'), release));
  stop.abort(new Error('cancelled'));
  await expect(d).rejects.toThrow('cancelled');
  a();
  a(); // a second release of the same slot frees nothing more
  (await c)();
  b();
  (await e)();
  expect(order).toEqual(['c', 'e']);
  // All free again: two at once.
  await Promise.all([slots.acquire(), slots.acquire()]);
});
