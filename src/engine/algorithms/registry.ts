/**
 * The algorithm registry: every algorithm, built-in or custom, registered by name, so that the
 * CLI, the train pipeline (by name in its spec's env), model files and the API create it the same
 * way.
 */
import type { AlgoBase, AlgorithmClass } from './base';
import { ParamError } from '../params';

const registry = new Map<string, AlgorithmClass>();

/**
 * Registers an algorithm class under its `algorithmName`.
 * @throws Error when another class is already registered under that name.
 */
export function registerAlgorithm(cls: AlgorithmClass): void {
  const prev = registry.get(cls.algorithmName);
  if (prev && prev !== cls)
    throw new Error(`an algorithm named '${cls.algorithmName}' is already registered`);
  registry.set(cls.algorithmName, cls);
}

/** The class registered under `name`. @throws ParamError naming the known algorithms when unknown. */
export function getAlgorithm(name: string): AlgorithmClass {
  const cls = registry.get(name);
  if (!cls) {
    throw new ParamError(
      'algo',
      `unknown algorithm '${name}'; expected one of: ${[...registry.keys()].join(', ')}`,
    );
  }
  return cls;
}

/** A new, unfitted instance of the algorithm `name` with `params`. @throws ParamError */
export function createAlgorithm(name: string, params?: Record<string, unknown>): AlgoBase {
  const Cls = getAlgorithm(name);
  return new Cls(params);
}

/** Names of all registered algorithms, in registration order. */
export function listAlgorithms(): string[] {
  return [...registry.keys()];
}
