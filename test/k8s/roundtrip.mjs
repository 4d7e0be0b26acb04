// Round-trips Kubernetes objects through @kubernetes/client-node's typed model. The package is
// ESM only, so this runs as a child process of the jest test (which runs CommonJS).
//
// Reads a JSON array of objects on stdin, loads each with the client's typed loader (`loadYaml`,
// which picks the class — V1Deployment, V1Service, … — from apiVersion and kind), dumps it back
// with `dumpYaml`, and prints a JSON array of {type, yaml}: `type` is the class the object was
// loaded into (`KubernetesObject` when the kind has no typed class, which the caller must refuse),
// `yaml` the dump, from which any field the typed model does not know (a misspelling) is missing.
import { dumpYaml, loadYaml } from '@kubernetes/client-node';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const out = objects.map((obj) => {
  const typed = loadYaml(JSON.stringify(obj)); // JSON is YAML
  return { type: typed?.constructor?.name ?? null, yaml: dumpYaml(typed) };
});
process.stdout.write(JSON.stringify(out));
