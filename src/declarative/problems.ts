import { TollgateError } from '../errors.ts';

/** Where in a tollgate.yaml: keys and list indexes from the top, e.g. ['models', 0, 'inputPrice']. */
export type DocPath = Array<string | number>;

/** One thing wrong with a file: where, and why. Never a secret's value. */
export interface Problem {
  path: DocPath;
  message: string;
}

/** `['models', 0, 'targets', 1, 'weight']` → `models[0].targets[1].weight`. */
export function pathText(path: DocPath): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text ? `.${part}` : part;
  return text;
}

/** The reverse of `pathText`, for paths in problems a server sent back. */
export function parsePathText(text: string): DocPath {
  const path: DocPath = [];
  for (const match of text.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    path.push(match[2] !== undefined ? Number(match[2]) : (match[1] as string));
  }
  return path;
}

/** The problem text of an error thrown by an admin API service, without its "Invalid request: ". */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^Invalid request: /, '');
}

/** A file that cannot be applied: every problem found, none of them applied. */
export class ConfigProblems extends Error {
  override name = 'ConfigProblems';
  constructor(readonly problems: Problem[]) {
    super(problemsText(problems));
  }

  /** As the admin API answers it: 400, one problem a line (read back by `problemsFromMessage`). */
  toTollgateError(): TollgateError {
    return new TollgateError('TG_ERR_INVALID_REQUEST', problemsText(this.problems));
  }
}

/** A problem line: `- models[0].inputPrice: must be >= 0`, or without a path. */
const LINE = /^- (?:((?:version|prune|organization|credentials|models|projects)(?:\[\d+\]|\.[^\s:.[]+)*): )?(.*)$/;

function problemsText(problems: Problem[]): string {
  const lines = problems.map(
    (problem) => `- ${problem.path.length > 0 ? `${pathText(problem.path)}: ` : ''}${problem.message}`,
  );
  const count = problems.length === 1 ? 'one problem' : `${problems.length} problems`;
  return `the configuration has ${count}; nothing was changed:\n${lines.join('\n')}`;
}

/** The problems in an admin API error message made by `toTollgateError`, or undefined. */
export function problemsFromMessage(message: string): Problem[] | undefined {
  const [first, ...rest] = message.split('\n');
  if (!first?.includes('nothing was changed:') || rest.length === 0) return undefined;
  const problems: Problem[] = [];
  for (const line of rest) {
    const match = LINE.exec(line);
    if (!match) return undefined;
    problems.push({ path: match[1] ? parsePathText(match[1]) : [], message: match[2] as string });
  }
  return problems;
}
