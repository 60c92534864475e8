/** e2e suites: the built app over real sockets against real upstream servers on port 0. */
const unit = require('../jest.config.js');

module.exports = {
  rootDir: '..',
  testRegex: 'test/.*\\.e2e-spec\\.ts$',
  testEnvironment: 'node',
  transform: unit.transform,
  testTimeout: 60000,
  // One real redis-server for the Redis suites (TEST_REDIS_URL); see test/global-setup.ts.
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
