/**
 * `npm run test:unit`: the fast path of the suite (target: under two minutes on 2 cores). Pure
 * engine, service, resolver-mapping, configuration and codec tests: no MovieLens-wide acceptance
 * runs, no child processes, no browser, no multi-process or network end-to-end suites. `npm test`
 * runs everything (jest.config.js).
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testPathIgnorePatterns: [
    '/node_modules/',
    // MovieLens-wide acceptance and data-set downloads
    '-ml100k\\.test\\.ts$',
    '/test/engine/dataset-builtin\\.test\\.ts$',
    '/test/engine/dataset-download\\.test\\.ts$',
    '/test/engine/knn\\.test\\.ts$',
    '/test/resolvers/api\\.test\\.ts$',
    // child processes, servers, browsers, clusters
    '/test/engine/build-kernels\\.test\\.ts$',
    '/test/cli/(?!compare-report\\.test\\.ts$|pach-commands\\.test\\.ts$|pps-commands\\.test\\.ts$)',
    '/test/k8s/',
    '/test/server/(?!config\\.test\\.ts$)',
    '/test/pachyderm/crash\\.test\\.ts$',
    '/test/pachyderm/embedded\\.pps\\.test\\.ts$',
    '/test/pachyderm/grpc\\.e2e\\.test\\.ts$',
    '/test/pachyderm/grpc/protos\\.test\\.ts$',
    '/test/pachyderm/grpc/select\\.test\\.ts$',
    '/test/workers/(e2e|init)\\.test\\.ts$',
    '/test/reliability/',
  ],
};
