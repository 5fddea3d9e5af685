import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands.ts';

/** Runs the `tollgate` command line; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('tollgate')
    .description('Tollgate: a self-hosted LLM gateway')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('serve')
    .description('Start the gateway, the admin API and the dashboard')
    .action(async () => {
      const { serve } = await import('../server.ts');
      await serve();
      // Keep running: the server holds the event loop open until a signal stops it.
      await new Promise(() => {});
    });

  registerCommands(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`tollgate: ${(error as Error).message}\n`);
    return 1;
  }
}
