/** `npm run schema`: writes schema/schema.graphql from the resolvers. */
import { SCHEMA_FILE, buildSchema } from '../src/resolvers/schema';

void buildSchema({ emitSchemaFile: true }).then(
  () => process.stdout.write(`wrote ${SCHEMA_FILE}\n`),
  (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  },
);
