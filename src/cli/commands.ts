import type { Command } from 'commander';
import { credentialCommands } from './commands/credentials.ts';
import { keyCommands } from './commands/keys.ts';
import { modelCommands } from './commands/models.ts';
import { projectCommands } from './commands/projects.ts';
import { usageCommands } from './commands/usage.ts';

/**
 * Registers the admin commands (keys, credentials, models, projects, usage): clients of the
 * admin REST API at TOLLGATE_URL, authenticated with TOLLGATE_ADMIN_TOKEN.
 */
export function registerCommands(program: Command): void {
  keyCommands(program);
  credentialCommands(program);
  modelCommands(program);
  projectCommands(program);
  usageCommands(program);
}
