/**
 * Custom algorithms from outside the package ("plugins"): a CommonJS module that defines
 * algorithm classes on the same base as the built-ins and registers them by name, so that the
 * CLI (`--plugin ./my-algo.js`), the train pipeline (`REELGRAPH_PLUGINS` in its spec's env) and
 * the API create them exactly as they create SVD.
 *
 * A plugin module may take any of three forms:
 *
 * 1. **A register function** (recommended; works whether reelgraph runs from its sources or its
 *    build): `module.exports = (engine) => { class MyAlgo extends engine.AlgoBase { … }
 *    engine.registerAlgorithm(MyAlgo); }`. The function receives {@link PluginEngine}: the very
 *    base class, errors and registry the host uses. A `register` named export works the same.
 * 2. **Exported classes**: `module.exports = { MyAlgo }` (or `exports.default = MyAlgo`); every
 *    export that is an algorithm class (a function with a string `algorithmName`, a `paramSpecs`
 *    object and an `estimate` method) is registered.
 * 3. **Self-registering**: the module imports this package's registry itself and calls
 *    `registerAlgorithm` on load (only when it resolves to the same copy of the package).
 *
 * Loading the same plugin file twice is harmless: the second time is skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AlgoBase, PredictionImpossible, requireArray, type AlgorithmClass } from './base';
import { getAlgorithm, listAlgorithms, registerAlgorithm } from './registry';
import { ParamError } from '../params';
import { Trainset } from '../trainset';

/** What a plugin's register function receives: the host's own classes and registry. */
export interface PluginEngine {
  AlgoBase: typeof AlgoBase;
  PredictionImpossible: typeof PredictionImpossible;
  ParamError: typeof ParamError;
  Trainset: typeof Trainset;
  requireArray: typeof requireArray;
  registerAlgorithm: typeof registerAlgorithm;
  getAlgorithm: typeof getAlgorithm;
  listAlgorithms: typeof listAlgorithms;
}

/** The object given to plugin register functions. */
export const pluginEngine: PluginEngine = Object.freeze({
  AlgoBase,
  PredictionImpossible,
  ParamError,
  Trainset,
  requireArray,
  registerAlgorithm,
  getAlgorithm,
  listAlgorithms,
});

/** A plugin that cannot be found or loaded: names the file and what went wrong. */
export class PluginError extends Error {
  constructor(
    /** The plugin as given (path or module name). */
    readonly plugin: string,
    message: string,
  ) {
    super(message);
    this.name = 'PluginError';
  }
}

/** Environment variable listing plugin modules, separated by the path delimiter (`:`, `;` on Windows). */
export const PLUGINS_ENV = 'REELGRAPH_PLUGINS';

/** The plugin paths listed in `REELGRAPH_PLUGINS` of `env` (empty entries ignored). */
export function pluginsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[PLUGINS_ENV] ?? '')
    .split(path.delimiter)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function isAlgorithmClass(v: unknown): v is AlgorithmClass {
  return (
    typeof v === 'function' &&
    typeof (v as unknown as AlgorithmClass).algorithmName === 'string' &&
    typeof (v as unknown as AlgorithmClass).paramSpecs === 'object' &&
    typeof (v as { prototype?: { estimate?: unknown } }).prototype?.estimate === 'function'
  );
}

/**
 * Loads plugin modules and registers their algorithms.
 *
 * @param plugins paths (relative ones resolve against `cwd`) or installed module names.
 * @param cwd directory relative paths are resolved from (default `process.cwd()`).
 * @returns the names of the algorithms these plugins registered (or exported), in order.
 * @throws PluginError when a plugin is not found, throws while loading, exports nothing usable
 *   and registers nothing; Error when it registers a name already taken by another class.
 */
export function loadAlgorithmPlugins(plugins: readonly string[], cwd = process.cwd()): string[] {
  const added: string[] = [];
  for (const plugin of plugins) {
    const isPath =
      path.isAbsolute(plugin) ||
      plugin.startsWith('.') ||
      /[\\/]/.test(plugin) ||
      /\.[cm]?[jt]s$/.test(plugin);
    let resolved: string;
    try {
      resolved = isPath
        ? require.resolve(path.resolve(cwd, plugin))
        : require.resolve(plugin, { paths: [cwd] });
    } catch {
      throw new PluginError(
        plugin,
        `plugin '${plugin}' not found${isPath ? ` (looked for ${path.resolve(cwd, plugin)})` : ''}`,
      );
    }
    if (isPath && !fs.existsSync(resolved)) {
      throw new PluginError(plugin, `plugin '${plugin}' not found (looked for ${resolved})`);
    }
    if (loaded.has(resolved)) continue; // a register function must not run twice
    const before = new Set(listAlgorithms());
    let exported: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      exported = require(resolved);
    } catch (err) {
      throw new PluginError(
        plugin,
        `plugin '${plugin}' failed to load: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const mod = exported as Record<string, unknown> | ((e: PluginEngine) => unknown);
    const register =
      typeof mod === 'function' && !isAlgorithmClass(mod)
        ? mod
        : mod && typeof mod === 'object' && typeof mod.register === 'function'
          ? (mod.register as (e: PluginEngine) => unknown)
          : null;
    const exportedNames: string[] = [];
    if (register) {
      try {
        register(pluginEngine);
      } catch (err) {
        throw new PluginError(
          plugin,
          `plugin '${plugin}' failed to register: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    } else {
      const candidates = isAlgorithmClass(mod)
        ? [mod]
        : mod && typeof mod === 'object'
          ? Object.values(mod).filter(isAlgorithmClass)
          : [];
      for (const cls of candidates) {
        if (!(cls.prototype instanceof AlgoBase)) {
          throw new PluginError(
            plugin,
            `plugin '${plugin}': class ${cls.algorithmName} does not extend this reelgraph's AlgoBase ` +
              `(another copy of the package?); export a register(engine) function and extend engine.AlgoBase`,
          );
        }
        registerAlgorithm(cls);
        exportedNames.push(cls.algorithmName);
      }
    }
    const now = listAlgorithms();
    const fresh = now.filter((n) => !before.has(n));
    for (const n of exportedNames) if (!fresh.includes(n)) fresh.push(n);
    if (fresh.length === 0) {
      throw new PluginError(
        plugin,
        `plugin '${plugin}' registered no algorithm; export a register(engine) function that calls ` +
          `engine.registerAlgorithm(MyAlgo), or export algorithm classes`,
      );
    }
    loaded.add(resolved);
    added.push(...fresh);
  }
  return added;
}

/** Resolved files of the plugins loaded so far. */
const loaded = new Set<string>();
