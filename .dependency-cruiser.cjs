/**
 * The layer rules of iomux, checked by dependency-cruiser (`npm run lint:layers`).
 *
 * The layers, bottom to top; a module may import its own layer and the layers below it,
 * never one above, and no import cycle may exist anywhere:
 *
 *   validate.ts + sys/  →  errors.ts  →  select/ + os.ts  →  selectors/  →  loop/ + uring/  →
 *   net/  →  stream/  →  http/  →  cli/
 *
 * index.ts, the public API, sits on top: no module of the library imports it, and the
 * command line (cli/) imports nothing else of the package, so the public exports are
 * enough to write iomux's own servers. Within net/, the synchronous socket code stays
 * below the event loop: only net's asynchronous operations (net/async.ts) use the Reactor. os.ts and select/ share a layer without importing each other.
 *
 * `npm run lint:layers` runs .ci/layers.mjs, which compiles src/ afresh into
 * node_modules/.cache/iomux-layers/src/ (dependency-cruiser cannot parse TypeScript 7
 * sources), adds the type-only imports compilation erased, and runs the check there.
 * Paths in the report are those of src/ with .js for .ts.
 */

/** The layers, lowest first: a name and the paths (under src/) that form it. */
const LAYERS = [
  ['sys', ['validate\\.[jt]s$', 'sys/']],
  ['errors', ['errors\\.[jt]s$']],
  ['select', ['select/', 'os\\.[jt]s$']],
  ['selectors', ['selectors/']],
  ['loop', ['loop/', 'uring/']],
  ['net', ['net/']],
  ['stream', ['stream/']],
  ['http', ['http/']],
  ['cli', ['cli/']],
];

const ROOT = '^src/';
const anyOf = (paths) => `${ROOT}(${paths.join('|')})`;

/** One rule per layer: nothing in it imports a layer above it. */
const layerRules = LAYERS.slice(0, -1).map(([name, paths], i) => {
  const above = LAYERS.slice(i + 1);
  return {
    name: `layer-${name}`,
    severity: 'error',
    comment: `${name} (${paths.join(', ')}) must not import a higher layer: ${above.map(([n]) => n).join(', ')}`,
    from: { path: anyOf(paths) },
    to: { path: anyOf(above.flatMap(([, p]) => p)) },
  };
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle: the modules in it cannot be understood, tested or loaded one at a time',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'index-on-top',
      severity: 'error',
      comment: 'index.ts is the public API: no module of the library imports it',
      from: { path: ROOT, pathNot: `${ROOT}(cli/|index\\.[jt]s$)` },
      to: { path: `${ROOT}index\\.[jt]s$` },
    },
    {
      name: 'cli-public-api-only',
      severity: 'error',
      comment: 'the command line uses the package as its users do: index.ts and its own modules only',
      from: { path: `${ROOT}cli/` },
      to: { path: ROOT, pathNot: `${ROOT}(cli/|index\\.[jt]s$)` },
    },
    {
      name: 'os-beside-select',
      severity: 'error',
      comment: 'os.ts and select/ share a layer but not code: what both need lives lower (validate.ts, sys/)',
      from: { path: anyOf(['os\\.[jt]s$']) },
      to: { path: anyOf(['select/']) },
    },
    {
      name: 'select-beside-os',
      severity: 'error',
      comment: 'os.ts and select/ share a layer but not code: what both need lives lower (validate.ts, sys/)',
      from: { path: anyOf(['select/']) },
      to: { path: anyOf(['os\\.[jt]s$']) },
    },
    {
      name: 'loop-beside-uring',
      severity: 'error',
      comment: 'the Reactor (loop/) and the Proactor (uring/) share a layer but not code: what both need lives in sys/',
      from: { path: anyOf(['loop/']) },
      to: { path: anyOf(['uring/']) },
    },
    {
      name: 'uring-beside-loop',
      severity: 'error',
      comment: 'the Reactor (loop/) and the Proactor (uring/) share a layer but not code: what both need lives in sys/',
      from: { path: anyOf(['uring/']) },
      to: { path: anyOf(['loop/', 'selectors/', 'select/', 'os\\.[jt]s$']) },
    },
    {
      name: 'net-sync-below-the-loop',
      severity: 'error',
      comment: 'the synchronous socket code of net/ works without an event loop: only the asynchronous operations (net/async.ts, and the barrel net/index.ts) import a selector or the Reactor',
      from: { path: `${ROOT}net/`, pathNot: `${ROOT}net/(async|index)\\.[jt]s$` },
      to: { path: anyOf(['selectors/', 'loop/']) },
    },
  ],
  options: {
    // The compiled graph of src/ that .ci/layers.mjs prepares.
    baseDir: 'node_modules/.cache/iomux-layers',
    includeOnly: '^src/',
    doNotFollow: { path: 'node_modules' },
    moduleSystems: ['es6'],
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
