import type { Command } from 'commander';

/** Registers the admin commands (keys, credentials, models, projects, usage). */
export function registerCommands(_program: Command): void {}
