// A unit's stop switch (src/db/unitStop.ts): the signal a unit sees is made only when it reads it, and says the
// same as one made at the start would.
import { UnitStop } from '../../src/db/unitStop';

it('makes no signal until asked, and one asked for after the stop is already aborted with the reason', () => {
  const stop = new UnitStop();
  const calls: string[] = [];
  stop.onAbort(() => calls.push('listener'));
  expect(stop.aborted).toBe(false);
  expect(() => stop.throwIfAborted()).not.toThrow();

  const reason = new Error('timed out');
  stop.abort(reason);
  stop.abort(new Error('a second stop changes nothing'));
  expect(calls).toEqual(['listener']);
  expect(stop.aborted).toBe(true);
  expect(stop.reason).toBe(reason);
  expect(() => stop.throwIfAborted()).toThrow(reason);
  expect(stop.signal.aborted).toBe(true);
  expect(stop.signal.reason).toBe(reason);
});

it('aborts a signal the unit read earlier, and calls no listener that was removed', () => {
  const stop = new UnitStop();
  const signal = stop.signal;
  const calls: string[] = [];
  stop.onAbort(() => calls.push('removed'))();
  stop.abort('cancelled');
  expect(signal.aborted).toBe(true);
  expect(signal.reason).toBe('cancelled');
  expect(calls).toEqual([]);
});

it('follows a caller’s own AbortSignal: hands it to the unit, and its abort reaches the listener', () => {
  const controller = new AbortController();
  const stop = new UnitStop(controller.signal);
  const calls: unknown[] = [];
  const stopListening = stop.onAbort(() => calls.push(stop.reason));
  expect(stop.signal).toBe(controller.signal);

  controller.abort('shutting down');
  expect(calls).toEqual(['shutting down']);
  expect(stop.aborted).toBe(true);
  stopListening();
  expect(() => stop.throwIfAborted()).toThrow();
});
