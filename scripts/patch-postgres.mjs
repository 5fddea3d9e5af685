// Runs after `npm install` / `npm ci` (the `postinstall` script of package.json).
//
// postgres.js 3.4.x batches small writes behind a setImmediate; when the connection closes
// before it fires (or a query is written to a connection waiting to reconnect), `nextWrite`
// reads `socket.write` of a null socket and throws from the timer, where nothing can catch it:
// the process dies (porsager/postgres#1066, #1154, #1208; fixes proposed in #1168, #1176,
// #1209, none released as of 3.4.9). Tollgate hit it whenever PostgreSQL went away under load
// (test/durability/db-outage.test.ts, about one run in five), which is exactly when it must
// keep serving. Until a release has the guard, this adds it: a write on a closed connection
// fails that connection's queries with CONNECTION_CLOSED (which callers handle), and closing
// forgets the pending write. Idempotent; says so and does nothing if the code has changed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MARK = 'tollgate-patch';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'postgres');
const NEXT_WRITE = '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n';
const GUARDED = `  function nextWrite(fn) {
    if (!socket) { // ${MARK}: the connection closed; fail its queries instead of throwing from a timer
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)
`;
const CLEAR = '    clearImmediate(nextWriteTimer)\n';
const CLEARED = `    clearImmediate(nextWriteTimer)\n    chunk = nextWriteTimer = null // ${MARK}\n`;

for (const flavour of ['src', 'cjs/src', 'cf/src']) {
  const file = path.join(root, flavour, 'connection.js');
  if (!existsSync(file)) continue;
  const source = readFileSync(file, 'utf8');
  if (source.includes(MARK)) continue;
  if (!source.includes(NEXT_WRITE)) {
    console.warn(
      `patch-postgres: ${path.relative(process.cwd(), file)} has changed; not patched (check that it guards nextWrite)`,
    );
    continue;
  }
  writeFileSync(file, source.replace(NEXT_WRITE, GUARDED).replaceAll(CLEAR, CLEARED));
}
