// A target query's page is checked before anything is dispatched.
import { UserError } from '../../src/errors';
import { checkTargetRows, fairnessKeyOf } from '../../src/targets';

it('turns keys into strings and refuses a row without one, a key twice, or the cursor again', () => {
  expect(checkTargetRows('b', [{ key: 7, x: 1 }, { key: 'a' }], null)).toEqual([{ key: '7', x: 1 }, { key: 'a' }]);
  expect(() => checkTargetRows('b', [{ id: 1 }], null)).toThrow(
    'b: target row 1 of the page has no key (a non-empty string or a number): {"id":1}',
  );
  expect(() => checkTargetRows('b', [{ key: '' }], null)).toThrow('target row 1 of the page has no key');
  expect(() => checkTargetRows('b', [{ key: 'a' }, { key: 'a' }], null)).toThrow('the target query returned key "a" twice in one page');
  expect(() => checkTargetRows('b', [{ key: 'c' }], 'c')).toThrow('returned key "c" again, after it: does it filter on key > after?');
});

it("reads a target's fairness key as text, and names the batch and target when the key function is wrong", () => {
  const target = { key: 't1', tenant: 'acme', size: 3 };
  expect(fairnessKeyOf('b', (t: typeof target) => t.tenant, target)).toBe('acme');
  expect(fairnessKeyOf('b', (t: typeof target) => t.size, target)).toBe('3');
  expect(fairnessKeyOf('b', () => null, target)).toBe('');
  const thrown = () =>
    fairnessKeyOf(
      'b',
      () => {
        throw new Error('no tenant');
      },
      target,
    );
  expect(thrown).toThrow(UserError);
  expect(thrown).toThrow('b: job.fairnessKey threw for target t1: no tenant');
  expect(() => fairnessKeyOf('b', () => ({ id: 1 }), target)).toThrow(
    'b: job.fairnessKey must return a string or a number (got object for target t1)',
  );
});
