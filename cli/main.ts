/**
 * The `creditops` command line. Each subcommand lives in its own file under cli/commands/; this
 * file only wires them together.
 */
import { Command } from 'commander';
import { VERSION } from '../lib/version.js';
import { agentCommand } from './commands/agent.js';
import { checkConfigCommand } from './commands/check-config.js';
import { collectorCommand } from './commands/collector.js';
import { inspectCommand } from './commands/inspect.js';
import { ticketCommand } from './commands/ticket.js';
import { userCommand } from './commands/user.js';

const program = new Command('creditops')
  .description('公共信用信息管理系统运维监控套件 (creditops): agent, collector, checks and reports')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)');

program.addCommand(collectorCommand());
program.addCommand(agentCommand());
program.addCommand(checkConfigCommand());
program.addCommand(ticketCommand());
program.addCommand(userCommand());
program.addCommand(inspectCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`creditops: ${(error as Error).message}\n`);
  // Exit now: a half-started daemon may hold timers or helper processes that would keep it alive.
  process.exit(1);
}
