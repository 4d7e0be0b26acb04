/**
 * The schema: the committed SDL matches the resolvers (run `npm run schema` after a change), the
 * contract's names exist, every type, field, argument and enum value is described, and the
 * example operations under schema/examples/ are valid against it and use every root field.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  type GraphQLSchema,
  Kind,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  parse,
  validate,
} from 'graphql';
import { SCHEMA_FILE, buildSchema, schemaSdl } from '../../src/resolvers/schema';

const EXAMPLES = path.resolve(__dirname, '../../schema/examples');

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await buildSchema();
});

test('schema/schema.graphql is up to date (else run `npm run schema`)', () => {
  expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaSdl(schema));
});

test('buildSchema({emitSchemaFile}) writes the same SDL', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sdl-')), 's.graphql');
  await buildSchema({ emitSchemaFile: file });
  expect(fs.readFileSync(file, 'utf8')).toBe(fs.readFileSync(SCHEMA_FILE, 'utf8'));
});

test('the operations of the contract exist', () => {
  const names = (t: ReturnType<GraphQLSchema['getQueryType']>) =>
    Object.keys(t!.getFields()).sort();
  expect(names(schema.getMutationType())).toEqual([
    'addRatings',
    'removeRatingBatch',
    'requestPredictions',
    'serveModel',
    'updatePipeline',
    'upsertMovies',
    'upsertUsers',
  ]);
  expect(names(schema.getSubscriptionType())).toEqual([
    'commitCreated',
    'jobUpdated',
    'modelUpdated',
    'subscribeToPrediction',
  ]);
  expect(names(schema.getQueryType())).toEqual(
    [
      'commits',
      'genres',
      'job',
      'jobHistory',
      'model',
      'models',
      'movie',
      'movies',
      'predict',
      'prediction',
      'predictionHistory',
      'recommendations',
      'repos',
      'similarMovies',
      'user',
    ].sort(),
  );
  const queries = schema.getQueryType()!.getFields();
  const args = (field: string) => queries[field].args.map((a) => a.name).sort();
  expect(args('jobHistory')).toEqual(['after', 'first', 'pipeline', 'state']);
  expect(args('recommendations')).toEqual(['excludeRated', 'first', 'genre', 'userId']);
  expect(args('similarMovies')).toEqual(['first', 'movieId']);
  expect(args('movies')).toEqual(['after', 'first', 'genre', 'search']);
  expect(args('predictionHistory')).toEqual(['after', 'first', 'userId']);
  const state = schema.getType('JobState');
  expect(
    isEnumType(state) &&
      state
        .getValues()
        .map((v) => v.name)
        .sort(),
  ).toEqual(
    [
      'CREATED',
      'STARTING',
      'RUNNING',
      'FINISHING',
      'SUCCESS',
      'FAILURE',
      'KILLED',
      'UNRUNNABLE',
      'EGRESSING',
    ].sort(),
  );
});

test('every type, field, argument, input field and enum value has a description', () => {
  const missing: string[] = [];
  for (const t of Object.values(schema.getTypeMap())) {
    if (t.name.startsWith('__') || (isScalarType(t) && isSpecifiedScalarType(t))) continue;
    if (!t.description) missing.push(t.name);
    if (isObjectType(t) || isInterfaceType(t)) {
      for (const f of Object.values(t.getFields())) {
        if (!f.description) missing.push(`${t.name}.${f.name}`);
        for (const a of f.args) if (!a.description) missing.push(`${t.name}.${f.name}(${a.name})`);
      }
    } else if (isInputObjectType(t)) {
      for (const f of Object.values(t.getFields())) {
        if (!f.description) missing.push(`${t.name}.${f.name}`);
      }
    } else if (isEnumType(t)) {
      for (const v of t.getValues()) if (!v.description) missing.push(`${t.name}.${v.name}`);
    }
  }
  expect(missing).toEqual([]);
});

test('names follow GraphQL conventions: PascalCase types, camelCase fields, SCREAMING_CASE enums', () => {
  const bad: string[] = [];
  for (const t of Object.values(schema.getTypeMap())) {
    if (t.name.startsWith('__')) continue;
    if (!/^[A-Z][A-Za-z0-9]*$/.test(t.name)) bad.push(t.name);
    if (isObjectType(t) || isInputObjectType(t)) {
      for (const f of Object.keys(t.getFields()))
        if (!/^[a-z][A-Za-z0-9]*$/.test(f)) bad.push(`${t.name}.${f}`);
    }
    if (isEnumType(t)) {
      for (const v of t.getValues())
        if (!/^[A-Z][A-Z0-9_]*$/.test(v.name)) bad.push(`${t.name}.${v.name}`);
    }
  }
  expect(bad).toEqual([]);
});

test('the example operations are valid and together use every root field', () => {
  const files = fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.graphql'));
  expect(files.length).toBeGreaterThan(0);
  const used = new Set<string>();
  const opNames = new Set<string>();
  for (const f of files) {
    const doc = parse(fs.readFileSync(path.join(EXAMPLES, f), 'utf8'));
    expect({ file: f, errors: validate(schema, doc).map((e) => e.message) }).toEqual({
      file: f,
      errors: [],
    });
    for (const d of doc.definitions) {
      if (d.kind !== Kind.OPERATION_DEFINITION) continue;
      expect(d.name).toBeDefined();
      expect(opNames.has(d.name!.value)).toBe(false);
      opNames.add(d.name!.value);
      for (const s of d.selectionSet.selections) {
        if (s.kind === Kind.FIELD) used.add(`${d.operation}.${s.name.value}`);
      }
    }
  }
  const all = [
    ...Object.keys(schema.getQueryType()!.getFields()).map((n) => `query.${n}`),
    ...Object.keys(schema.getMutationType()!.getFields()).map((n) => `mutation.${n}`),
    ...Object.keys(schema.getSubscriptionType()!.getFields()).map((n) => `subscription.${n}`),
  ];
  expect(all.filter((n) => !used.has(n))).toEqual([]);
});
