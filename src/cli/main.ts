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
    .option('--workers <n>', 'worker processes sharing the port: a number, or auto for one per core', '1')
    .action(async (options: { workers: string }) => {
      const cluster = (await import('node:cluster')).default;
      if (cluster.isWorker) {
        // A worker that cannot start must exit, or its IPC channel keeps it alive and unseen.
        await import('../cluster/worker.ts')
          .then(({ runWorker }) => runWorker())
          .catch((error) => {
            process.stderr.write(`tollgate: ${(error as Error).message}\n`);
            process.exit(1);
          });
      } else {
        const { runPrimary, workerCount } = await import('../cluster/primary.ts');
        const workers = workerCount(options.workers);
        if (workers > 1) await runPrimary(workers);
        else await (await import('../server.ts')).serve();
      }
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
