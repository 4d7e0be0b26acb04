/**
 * Jest's global setup: builds the AssemblyScript kernels when their sources changed
 * (scripts/build-kernels.js; a few milliseconds when nothing changed), so that every test loads
 * kernels compiled from the current sources.
 */
'use strict';
module.exports = async () => {
  require('./build-kernels').ensureKernels();
};
