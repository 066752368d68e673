// `npm run test:fast`: the tests that need no PostgreSQL — pure functions, the plan, and the workflows' own
// logic with stub activities on a dev server this set-up starts. Under a minute, for every change.
const { jest } = require('./package.json');

module.exports = {
  ...jest,
  roots: ['<rootDir>/test/fast'],
  globalSetup: '<rootDir>/test/setup/fastSetup.ts',
};
