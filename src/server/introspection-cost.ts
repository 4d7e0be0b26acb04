/**
 * What an introspection field really costs, for graphql-query-complexity: a list field of the
 * introspection types (`__Schema.types`, `__Type.fields`, `__Field.args`, …) costs
 * `1 + n × (its selections' cost)`, where `n` is how many items it returns on THIS schema on
 * average (`__Schema.types`: the number of named types; `__Type.fields`: the fields of all types
 * divided by the number of types, so that `types { fields { … } }` costs what it returns in
 * total; `__Field.args`: the arguments of all fields divided by the number of fields; likewise
 * inputFields, enumValues, interfaces, possibleTypes, directives and their args). Without it an
 * introspection list costs 1 however much it returns, and 100 aliases of
 * `__schema { types { fields { args } } }` — 744 KB of answer — passed as 700 (issue 11).
 *
 * limits.ts keeps introspection in a budget of its own (REELGRAPH_MAX_INTROSPECTION_COMPLEXITY,
 * default 40 000), apart from the ordinary complexity limit: the standard introspection query of
 * IDEs (graphql-js `getIntrospectionQuery()`) costs about 22 800 on reelgraph's schema — it fits,
 * and ten aliases of it do not (test/server/introspection-limits.test.ts).
 */
import {
  type GraphQLField,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
} from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';

/** Mean list sizes of the introspection types on one schema (see the module documentation). */
export interface IntrospectionSizes {
  types: number;
  directives: number;
  fields: number;
  inputFields: number;
  enumValues: number;
  interfaces: number;
  possibleTypes: number;
  fieldArgs: number;
  directiveArgs: number;
}

const sizesCache = new WeakMap<GraphQLSchema, IntrospectionSizes>();

/** The mean list sizes of `schema`'s introspection (each at least 1), memoised per schema. */
export function introspectionSizes(schema: GraphQLSchema): IntrospectionSizes {
  const cached = sizesCache.get(schema);
  if (cached) return cached;
  const types = Object.values(schema.getTypeMap());
  const directives = schema.getDirectives();
  let fields = 0;
  let inputFields = 0;
  let enumValues = 0;
  let interfaces = 0;
  let possibleTypes = 0;
  let fieldArgs = 0;
  for (const t of types) {
    if (isObjectType(t) || isInterfaceType(t)) {
      const fs = Object.values(t.getFields()) as GraphQLField<unknown, unknown>[];
      fields += fs.length;
      for (const f of fs) fieldArgs += f.args.length;
      interfaces += t.getInterfaces().length;
    }
    if (isInterfaceType(t) || isUnionType(t)) possibleTypes += schema.getPossibleTypes(t).length;
    if (isInputObjectType(t)) inputFields += Object.keys(t.getFields()).length;
    if (isEnumType(t)) enumValues += t.getValues().length;
  }
  const T = Math.max(1, types.length);
  const mean = (total: number, over: number) => Math.max(1, Math.ceil(total / Math.max(1, over)));
  const sizes: IntrospectionSizes = {
    types: T,
    directives: Math.max(1, directives.length),
    fields: mean(fields, T),
    inputFields: mean(inputFields, T),
    enumValues: mean(enumValues, T),
    interfaces: mean(interfaces, T),
    possibleTypes: mean(possibleTypes, T),
    fieldArgs: mean(fieldArgs, fields),
    directiveArgs: mean(
      directives.reduce((n, d) => n + d.args.length, 0),
      directives.length,
    ),
  };
  sizesCache.set(schema, sizes);
  return sizes;
}

/** The list size of introspection field `type.field` on `schema`, or undefined when not a list. */
function listSize(schema: GraphQLSchema, type: string, field: string): number | undefined {
  const s = introspectionSizes(schema);
  switch (`${type}.${field}`) {
    case '__Schema.types':
      return s.types;
    case '__Schema.directives':
      return s.directives;
    case '__Type.fields':
      return s.fields;
    case '__Type.inputFields':
      return s.inputFields;
    case '__Type.enumValues':
      return s.enumValues;
    case '__Type.interfaces':
      return s.interfaces;
    case '__Type.possibleTypes':
      return s.possibleTypes;
    case '__Field.args':
      return s.fieldArgs;
    case '__Directive.args':
      return s.directiveArgs;
    default:
      return undefined;
  }
}

/**
 * The estimator for introspection list fields (see the module documentation) on `schema`;
 * undefined for every other field (the next estimator prices it).
 */
export function introspectionEstimator(schema: GraphQLSchema): ComplexityEstimator {
  return ({ type, field, childComplexity }) => {
    if (!type.name.startsWith('__')) return undefined;
    let t = field.type;
    if (isNonNullType(t)) t = t.ofType;
    if (!isListType(t)) return undefined;
    const n = listSize(schema, type.name, field.name);
    if (n === undefined) return undefined;
    // a list of leaves (e.g. __Directive.locations) costs 1 per item too
    const perItem = Math.max(1, childComplexity);
    return 1 + n * perItem;
  };
}
