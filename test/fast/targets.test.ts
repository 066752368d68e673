// A target query's page is checked before anything is dispatched.
import { checkTargetRows } from '../../src/targets';

it('turns keys into strings and refuses a row without one, a key twice, or the cursor again', () => {
  expect(checkTargetRows('b', [{ key: 7, x: 1 }, { key: 'a' }], null)).toEqual([{ key: '7', x: 1 }, { key: 'a' }]);
  expect(() => checkTargetRows('b', [{ id: 1 }], null)).toThrow(
    'b: target row 1 of the page has no key (a non-empty string or a number): {"id":1}',
  );
  expect(() => checkTargetRows('b', [{ key: '' }], null)).toThrow('target row 1 of the page has no key');
  expect(() => checkTargetRows('b', [{ key: 'a' }, { key: 'a' }], null)).toThrow('the target query returned key "a" twice in one page');
  expect(() => checkTargetRows('b', [{ key: 'c' }], 'c')).toThrow('returned key "c" again, after it: does it filter on key > after?');
});
