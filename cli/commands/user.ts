import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';

export function userCommand(): Command {
  const user = new Command('user').description(
    'people who use the ticket API: roles admin, engineer, viewer (the bureau, read-only)',
  );

  user
    .command('add')
    .description("add a user to this machine's collector store and print its API token once")
    .argument('<name>', 'the user name (shown in ticket timelines)')
    .addOption(
      new Option('--role <role>', 'what the user may do')
        .choices(['admin', 'engineer', 'viewer'])
        .makeOptionMandatory(),
    )
    .option('-c, --config <file>', 'collector configuration (YAML), to find its data directory')
    .option('--rotate', 'replace the token (and role) of an existing user')
    .option('--token-file <file>', 'also write the token to this file (mode 0600)')
    .action(
      async (
        name: string,
        opts: {
          role: 'admin' | 'engineer' | 'viewer';
          config?: string;
          rotate?: boolean;
          tokenFile?: string;
        },
      ) => {
        const { loadCollectorConfig } = await import('../../collector/config.js');
        const { openStore } = await import('../../collector/store/store.js');
        const { addUser } = await import('../../collector/store/users.js');
        const config = loadCollectorConfig(opts.config);
        const store = await openStore(config.collector.dataDir);
        try {
          const { token, rotated } = await addUser(store, name, opts.role, { rotate: opts.rotate ?? false });
          if (opts.tokenFile) writeFileSync(opts.tokenFile, `${token}\n`, { mode: 0o600 });
          process.stdout.write(`${token}\n`);
          process.stderr.write(
            `用户 "${name}"（${opts.role}）已${rotated ? '更换令牌' : '创建'}；上面的令牌只显示这一次。/ user "${name}" (${opts.role}) ${rotated ? 'rotated' : 'added'}; the token above is shown only once: use it with --token-file or CREDITOPS_TOKEN.\n`,
          );
        } finally {
          await store.close();
        }
      },
    );

  user
    .command('list')
    .description('list the users and their roles')
    .option('-c, --config <file>', 'collector configuration (YAML)')
    .action(async (opts: { config?: string }) => {
      const { loadCollectorConfig } = await import('../../collector/config.js');
      const { openStore } = await import('../../collector/store/store.js');
      const { listUsers } = await import('../../collector/store/users.js');
      const store = await openStore(loadCollectorConfig(opts.config).collector.dataDir);
      try {
        for (const u of await listUsers(store))
          process.stdout.write(`${u.name}\t${u.role}\t${u.createdAt}\n`);
      } finally {
        await store.close();
      }
    });
  return user;
}
