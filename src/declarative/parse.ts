import type { ErrorObject } from 'ajv';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { credentialMethod, refuseMetadataUrls, splitFields } from '../control/credentials.ts';
import { bodyAjv, unstorableTextAt } from '../control/validation.ts';
import { providerSpec } from '../gateway/providers/registry.ts';
import type { AuthMethod } from '../gateway/providers/types.ts';
import { ConfigDocument, type CredentialSpec } from './document.ts';
import { type DocPath, type Problem, parsePathText, pathText, reasonOf } from './problems.ts';

/**
 * Reading a tollgate.yaml: YAML, then the admin API's own schemas, then what a file must say
 * that the API cannot check (unique names, secrets as `${ENV_VAR}` references), then the
 * secrets from the environment. Every problem is reported at once, with the file, the line and
 * the path in the document; none quotes a secret.
 */

type Env = Record<string, string | undefined>;

/** A parsed file, kept to say where a path is in it. */
export interface ConfigSource {
  file: string;
  doc: Document;
  lines: LineCounter;
}

/** A file that cannot be applied, its problems located in it (`file:line:col: path: reason`). */
export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
  constructor(
    readonly file: string,
    readonly lines: string[],
  ) {
    const count = lines.length === 1 ? 'one problem' : `${lines.length} problems`;
    super(`${file} has ${count}; nothing was changed:\n${lines.map((line) => `  ${line}`).join('\n')}`);
  }
}

/** `file:line:col` of what `path` names (its key, when it is a field), or of the nearest enclosing part found. */
export function locate(source: ConfigSource, path: DocPath): string {
  let node: unknown = source.doc.contents;
  let at: Node | undefined = isMap(node) || isSeq(node) ? (node as Node) : undefined;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === part);
      if (!pair) break;
      at = (pair.key as Node) ?? at;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number' && node.items[part]) {
      node = node.items[part];
      at = node as Node;
    } else {
      break;
    }
  }
  const offset = at?.range?.[0];
  if (offset === undefined) return source.file;
  const { line, col } = source.lines.linePos(offset);
  return `${source.file}:${line}:${col}`;
}

/** Problems found after parsing (by the planner, here or on a server) as a located error. */
export function locatedError(source: ConfigSource, problems: Problem[]): ConfigFileError {
  const located = problems.map((problem) => {
    const where = locate(source, problem.path);
    const [line = 0, col = 0] = where
      .slice(source.file.length + 1)
      .split(':')
      .map(Number);
    const at = problem.path.length ? `${pathText(problem.path)}: ` : '';
    return { line, col, text: `${where}: ${at}${problem.message}` };
  });
  located.sort((a, b) => a.line - b.line || a.col - b.col);
  return new ConfigFileError(
    source.file,
    located.map((problem) => problem.text),
  );
}

/**
 * Reads a tollgate.yaml's text: the document with its secrets taken from `env`, and the source
 * to locate later problems in. Throws a `ConfigFileError` listing every problem.
 */
export function readConfig(text: string, file: string, env: Env): { document: ConfigDocument; source: ConfigSource } {
  const lines = new LineCounter();
  // YAML 1.2's core schema: `yes` and `no` stay strings, as they read.
  const doc = parseDocument(text, { lineCounter: lines, schema: 'core', uniqueKeys: true });
  const source = { file, doc, lines };
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      file,
      doc.errors.map((error) => {
        const pos = error.linePos?.[0];
        const reason = (error.message.split('\n')[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, '');
        return `${pos ? `${file}:${pos.line}:${pos.col}` : file}: ${reason}`;
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigFileError(file, [`${file}: ${reasonOf(error)}`]);
  }
  const problems = checkDocument(raw);
  if (problems.length > 0) throw locatedError(source, problems);
  const document = raw as ConfigDocument;
  const resolved = resolveSecrets(document, env);
  if (resolved.problems.length > 0) throw locatedError(source, resolved.problems);
  return { document: resolved.document, source };
}

const validate = bodyAjv({ allErrors: true, verbose: true }).compile(ConfigDocument);

/** What is wrong with a parsed file, before its secrets are resolved; empty when nothing is. */
export function checkDocument(raw: unknown): Problem[] {
  if (raw === null || raw === undefined) {
    return [{ path: [], message: 'the file is empty: it should hold credentials, models, projects or organization' }];
  }
  if (!validate(raw)) return schemaProblems(validate.errors ?? []);
  // As on every admin API route: no text the database cannot store.
  const unstorable = unstorableTextAt(raw, '');
  if (unstorable !== undefined) {
    const inKey = unstorable.startsWith('a key in ') || unstorable === 'a field name';
    const reason = 'holds a NUL character or an unpaired UTF-16 surrogate, which cannot be stored';
    return [
      inKey ? { path: [], message: `${unstorable} ${reason}` } : { path: parsePathText(unstorable), message: reason },
    ];
  }
  const document = raw as ConfigDocument;
  return [...duplicateNames(document), ...(document.credentials ?? []).flatMap(credentialProblems)];
}

/** `/models/0/inputPrice` → ['models', 0, 'inputPrice']. */
function pointerPath(pointer: string): DocPath {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

const GENERIC = new Set(['type', 'const', 'anyOf', 'oneOf', 'enum']);

/**
 * Ajv's errors as one problem per place. A value that matches no branch of a union gets one
 * error per branch: the specific ones (a minimum, a pattern, an unknown field below it) are
 * kept; when there are none, the branches' types and constants are said together.
 */
function schemaProblems(errors: ErrorObject[]): Problem[] {
  const problems: Problem[] = [];
  const generic = new Map<string, ErrorObject[]>();
  const specificPaths: string[] = [];
  for (const error of errors) {
    const path = pointerPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const field = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      problems.push({ path: [...path, field], message: `unknown field (the fields here are ${known.join(', ')})` });
      specificPaths.push(`${error.instancePath}/${field}`);
    } else if (error.keyword === 'required') {
      const field = (error.params as { missingProperty: string }).missingProperty;
      problems.push({ path: [...path, field], message: 'is required' });
      specificPaths.push(`${error.instancePath}/${field}`);
    } else if (GENERIC.has(error.keyword)) {
      generic.set(error.instancePath, [...(generic.get(error.instancePath) ?? []), error]);
    } else {
      problems.push({ path, message: error.message ?? error.keyword });
      specificPaths.push(error.instancePath);
    }
  }
  for (const [pointer, group] of generic) {
    // A branch failed on something specific at or below this place: that says more.
    if (specificPaths.some((other) => other === pointer || other.startsWith(`${pointer}/`))) continue;
    const allowed = [
      ...group.filter((error) => error.keyword === 'const').map((error) => JSON.stringify(error.params.allowedValue)),
      ...group
        .filter((error) => error.keyword === 'enum')
        .flatMap((error) => (error.params.allowedValues as unknown[]).map((value) => JSON.stringify(value))),
      ...group.filter((error) => error.keyword === 'type').map((error) => String(error.params.type)),
    ];
    problems.push({
      path: pointerPath(pointer),
      message: allowedText([...new Set(allowed)]) ?? group[0]?.message ?? 'is not valid',
    });
  }
  return problems;
}

function allowedText(allowed: string[]): string | undefined {
  if (allowed.length === 0) return undefined;
  return allowed.length <= 2 ? `must be ${allowed.join(' or ')}` : `must be one of ${allowed.join(', ')}`;
}

function duplicateNames(document: ConfigDocument): Problem[] {
  const problems: Problem[] = [];
  for (const section of ['credentials', 'models', 'projects'] as const) {
    const seen = new Map<string, number>();
    for (const [index, item] of (document[section] ?? []).entries()) {
      const first = seen.get(item.name);
      if (first === undefined) seen.set(item.name, index);
      else
        problems.push({
          path: [section, index, 'name'],
          message: `"${item.name}" is also the name of ${section}[${first}]`,
        });
    }
  }
  return problems;
}

/** `${OPENAI_API_KEY}`: the one way a secret is written in a file. */
const REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** `openai-production` + `apiKey` → `OPENAI_PRODUCTION_API_KEY`: the variable export names. */
export function secretVariable(credential: string, field: string): string {
  const words = `${credential}_${field.replace(/([a-z0-9])([A-Z])/g, '$1_$2')}`;
  return words
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, '_$1');
}

/** The auth method a credential of the file uses, or a problem placed on the field at fault. */
function methodOf(credential: { provider: string; authMethod?: string | undefined }, path: DocPath) {
  try {
    return { method: credentialMethod(credential.provider, credential.authMethod) };
  } catch (error) {
    const field = providerSpec(credential.provider) ? 'authMethod' : 'provider';
    return { problem: { path: [...path, field], message: reasonOf(error) } };
  }
}

/** The credential checks the API makes, and the file's own: secrets by reference, settings written out. */
function credentialProblems(credential: CredentialSpec, index: number): Problem[] {
  const path: DocPath = ['credentials', index];
  const { method, problem } = methodOf(credential, path);
  if (!method) return [problem as Problem];
  try {
    splitFields(method, credential.provider, credential.fields, false);
    refuseMetadataUrls(credential.fields);
  } catch (error) {
    return [{ path: [...path, 'fields'], message: reasonOf(error) }];
  }
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(credential.fields)) {
    const secret = isSecret(method, name);
    if (secret && !REFERENCE.test(value)) {
      problems.push({
        path: [...path, 'fields', name],
        message: `is a secret: write a reference to an environment variable, such as \${${secretVariable(credential.name, name)}}, never the secret itself`,
      });
    } else if (!secret && value.includes('${')) {
      problems.push({
        path: [...path, 'fields', name],
        message: 'is not a secret: write its value; only secret fields are read from environment variables',
      });
    }
  }
  return problems;
}

function isSecret(method: AuthMethod, field: string): boolean {
  return method.fields.some((candidate) => candidate.name === field && candidate.secret);
}

/** The document with every `${VAR}` of a secret field replaced by the variable's value from `env`. */
export function resolveSecrets(document: ConfigDocument, env: Env): { document: ConfigDocument; problems: Problem[] } {
  const problems: Problem[] = [];
  const credentials = (document.credentials ?? []).map((credential, index) => {
    const method = credentialMethod(credential.provider, credential.authMethod);
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(credential.fields)) {
      const variable = isSecret(method, name) ? REFERENCE.exec(value)?.[1] : undefined;
      if (variable === undefined) {
        fields[name] = value;
        continue;
      }
      const secret = env[variable];
      if (secret === undefined || secret === '') {
        problems.push({
          path: ['credentials', index, 'fields', name],
          message: `environment variable ${variable} is ${secret === undefined ? 'not set' : 'empty'}`,
        });
      } else {
        fields[name] = secret;
      }
    }
    return { ...credential, fields };
  });
  return { document: document.credentials ? { ...document, credentials } : document, problems };
}
