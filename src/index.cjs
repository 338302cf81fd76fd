'use strict';
// The CommonJS entry point: `require('iomux')` returns the ES module's namespace, which
// Node.js can load synchronously since 20.19 and 22.12 (`require()` of ES modules). On an
// older Node.js, or with --no-experimental-require-module, say so plainly instead of
// leaving the user with ERR_REQUIRE_ESM.
try {
  module.exports = require('./index.js');
} catch (err) {
  if (err && err.code === 'ERR_REQUIRE_ESM') {
    throw new Error(
      `iomux is an ES module, and this Node.js (${process.version}) cannot require() ES modules. ` +
        'Use Node.js >= 20.19 or >= 22.12 (where require() of ES modules is enabled by default), ' +
        "or load it with `const iomux = await import('iomux')`.",
      { cause: err },
    );
  }
  throw err;
}
