// The types of `require('iomux')`: the ES module namespace that dist/index.cjs returns.
export * from './index.js';
