/**
 * Hyper-parameter specifications: every algorithm declares its parameters (name, type, default,
 * range, meaning) once; construction, the CLI's `--param name=value`, pipeline specs' env and
 * grid search all validate against the same declaration, so no parameter is silently ignored.
 */

/** Declaration of one hyper-parameter. `nullable` allows `null` ("use the fallback", e.g. lrBu → lrAll). */
export type ParamSpec =
  | {
      type: 'int';
      default: number | null;
      min?: number;
      max?: number;
      nullable?: boolean;
      doc: string;
    }
  | {
      type: 'float';
      default: number | null;
      min?: number;
      max?: number;
      nullable?: boolean;
      doc: string;
    }
  | { type: 'bool'; default: boolean; doc: string }
  | { type: 'enum'; values: readonly string[]; default: string; doc: string }
  | { type: 'seed'; default: number | null; doc: string }
  | { type: 'object'; fields: ParamSpecs; doc: string };

/** A map from parameter name to its declaration. */
export type ParamSpecs = Record<string, ParamSpec>;

/** Resolved parameter values (defaults applied). */
export type ParamValues = Record<string, unknown>;

/** A parameter value that is wrong: names the parameter and what was expected. */
export class ParamError extends Error {
  constructor(
    /** Dotted path of the parameter, e.g. `bslOptions.method`. */
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParamError';
  }
}

/**
 * The message for the unknown parameter `name` of `owner`, followed by what was expected:
 * "unknown parameter 'nFactor' for SVD; expected one of: nFactors, …", or, when there is nothing
 * to expect, "unknown parameter 'k' for SlopeOne; SlopeOne takes no parameters" (for an object
 * parameter `parent` without fields: "…; 'parent' of SVD takes no parameters").
 *
 * @param parent the dotted name of the object parameter holding `name`, '' at the top level.
 * @param known the names allowed where `name` was given (dotted as `name` is).
 */
export function unknownParameterMessage(
  name: string,
  owner: string,
  parent: string,
  known: string[],
): string {
  const expected =
    known.length > 0
      ? `expected one of: ${known.join(', ')}`
      : `${parent ? `'${parent}' of ${owner}` : owner} takes no parameters`;
  return `unknown parameter '${name}' for ${owner}; ${expected}`;
}

/**
 * Validates `given` against `specs` and fills in defaults.
 *
 * @param owner name used in messages (e.g. "SVD").
 * @returns a new object with every declared parameter present.
 * @throws ParamError for an unknown name (listing the known ones), a wrong type, or a value
 *   outside its range.
 */
export function resolveParams(
  specs: ParamSpecs,
  given: Record<string, unknown> | undefined,
  owner: string,
  prefix = '',
): ParamValues {
  const out: ParamValues = {};
  const g = given ?? {};
  for (const name of Object.keys(g)) {
    if (!(name in specs)) {
      const known = Object.keys(specs).map((k) => prefix + k);
      throw new ParamError(
        prefix + name,
        unknownParameterMessage(prefix + name, owner, prefix.slice(0, -1), known),
      );
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    const v = g[name];
    out[name] = v === undefined ? defaultOf(spec) : checkValue(spec, v, prefix + name, owner);
  }
  return out;
}

function defaultOf(spec: ParamSpec): unknown {
  return spec.type === 'object' ? resolveParams(spec.fields, {}, '') : spec.default;
}

function checkValue(spec: ParamSpec, v: unknown, path: string, owner: string): unknown {
  const fail = (what: string) =>
    new ParamError(
      path,
      `parameter '${path}' of ${owner} must be ${what}, got ${JSON.stringify(v)}`,
    );
  switch (spec.type) {
    case 'int':
    case 'float': {
      if (v === null && spec.nullable) return null;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`a finite number`);
      if (spec.type === 'int' && !Number.isInteger(v)) throw fail('a whole number');
      if (spec.min !== undefined && v < spec.min) throw fail(`≥ ${spec.min}`);
      if (spec.max !== undefined && v > spec.max) throw fail(`≤ ${spec.max}`);
      return v;
    }
    case 'bool':
      if (typeof v !== 'boolean') throw fail('true or false');
      return v;
    case 'enum':
      if (typeof v !== 'string' || !spec.values.includes(v))
        throw fail(`one of ${spec.values.join(', ')}`);
      return v;
    case 'seed':
      if (v === null) return null;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw fail('a whole number in [0, 4294967295] or null');
      }
      return v;
    case 'object':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail('an object');
      return resolveParams(spec.fields, v as Record<string, unknown>, owner, path + '.');
  }
}

/**
 * Parses a textual value (from `--param name=value` or an environment variable) by the type its
 * spec declares: numbers, `true`/`false`, `null`, enum names; for an object parameter, a JSON
 * object. Dotted names reach into object parameters (`bslOptions.method=sgd`).
 *
 * @returns the `{name: value}` fragment to merge into the parameters.
 * @throws ParamError for an unknown name or a value of the wrong type.
 */
export function parseParamAssignment(
  specs: ParamSpecs,
  assignment: string,
  owner: string,
): ParamValues {
  const eq = assignment.indexOf('=');
  if (eq <= 0) {
    throw new ParamError(assignment, `expected name=value, got '${assignment}'`);
  }
  const path = assignment.slice(0, eq).trim().split('.');
  const text = assignment.slice(eq + 1).trim();
  let level: ParamSpecs = specs;
  for (let d = 0; d < path.length; d++) {
    const spec = level[path[d]];
    const dotted = path.slice(0, d + 1).join('.');
    if (!spec) {
      const parent = path.slice(0, d).join('.');
      throw new ParamError(
        dotted,
        unknownParameterMessage(dotted, owner, parent, Object.keys(level)),
      );
    }
    if (d < path.length - 1) {
      if (spec.type !== 'object')
        throw new ParamError(dotted, `parameter '${dotted}' of ${owner} has no fields`);
      level = spec.fields;
      continue;
    }
    const value = parseText(spec, text, dotted, owner);
    let frag: ParamValues = { [path[d]]: value };
    for (let e = d - 1; e >= 0; e--) frag = { [path[e]]: frag };
    return frag;
  }
  throw new ParamError(assignment, `empty parameter name in '${assignment}'`);
}

function parseText(spec: ParamSpec, text: string, path: string, owner: string): unknown {
  if (text === 'null') return null;
  switch (spec.type) {
    case 'int':
    case 'float':
    case 'seed': {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) {
        throw new ParamError(
          path,
          `parameter '${path}' of ${owner} must be a number, got '${text}'`,
        );
      }
      return n;
    }
    case 'bool':
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw new ParamError(
        path,
        `parameter '${path}' of ${owner} must be true or false, got '${text}'`,
      );
    case 'enum':
      return text;
    case 'object':
      try {
        return JSON.parse(text);
      } catch {
        throw new ParamError(
          path,
          `parameter '${path}' of ${owner} must be a JSON object, got '${text}'`,
        );
      }
  }
}

/** Deep-merges parameter fragments (later ones win), e.g. several `--param` assignments. */
export function mergeParams(...parts: ParamValues[]): ParamValues {
  const out: ParamValues = {};
  for (const part of parts) {
    for (const [k, v] of Object.entries(part)) {
      const prev = out[k];
      out[k] =
        isPlainObject(prev) && isPlainObject(v)
          ? mergeParams(prev as ParamValues, v as ParamValues)
          : v;
    }
  }
  return out;
}

function isPlainObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
