import type { Command } from 'commander';
import { credentialCommands } from './commands/credentials.ts';
import { declarativeCommands } from './commands/declarative.ts';
import { keyCommands } from './commands/keys.ts';
import { modelCommands } from './commands/models.ts';
import { organizationCommands } from './commands/organization.ts';
import { projectCommands } from './commands/projects.ts';
import { rotateMasterKeyCommand } from './commands/rotate-master-key.ts';
import { usageCommands } from './commands/usage.ts';
import { userCommands } from './commands/users.ts';

/**
 * Registers the admin commands (keys, credentials, models, projects, users, org, usage, and
 * apply/export of a declarative tollgate.yaml):
 * clients of the admin REST API at TOLLGATE_URL, authenticated with TOLLGATE_ADMIN_TOKEN —
 * and `rotate-master-key`, which works on the database directly, with the server stopped
 * (PGlite) or running (PostgreSQL).
 */
export function registerCommands(program: Command): void {
  keyCommands(program);
  credentialCommands(program);
  modelCommands(program);
  projectCommands(program);
  userCommands(program);
  organizationCommands(program);
  usageCommands(program);
  declarativeCommands(program);
  rotateMasterKeyCommand(program);
}
