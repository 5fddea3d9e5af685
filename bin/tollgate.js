#!/usr/bin/env node
// The `tollgate` command. Runs the TypeScript sources through tsx's loader so that a
// fresh clone needs no build step; the loader costs start-up time only, not request time.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
