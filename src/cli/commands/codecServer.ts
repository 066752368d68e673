import type { Command } from 'commander';
import type { CliApp } from '../app';
import { UserError } from '../../errors';
import { createCodecServer } from '../../temporal/codecServer';
import { collect, isLoopback, port } from '../parsers';
import { cannotListen, untilSignalled } from '../serve';

const WEB_UI_ORIGIN = 'http://localhost:8233';

export function registerCodecServer(program: Command, app: CliApp): void {
  program
    .command('codec-server')
    .description('decrypt payloads for the Web UI and `temporal --codec-endpoint`, with the keys of TJU_CODEC_KEYS')
    .option('--port <port>', 'port to listen on', port, 8888)
    .option('--host <host>', 'address to listen on; beyond loopback it needs TJU_CODEC_TOKEN', '127.0.0.1')
    .option('--allow-origin <url>', `an origin browsers may call it from: the Web UI's (repeatable; default ${WEB_UI_ORIGIN})`, collect)
    .addHelpText(
      'after',
      '\nWith TJU_CODEC_TOKEN set, every request must carry Authorization: Bearer <token> (the Web UI: "Pass access' +
        ' token"; the temporal CLI: --codec-auth). See docs/operating.md#encrypted-payloads.',
    )
    .action(async (flags: { port: number; host: string; allowOrigin?: string[] }) => {
      const { codec, codecToken } = { codec: app.config.temporal.codec, codecToken: app.config.codecToken };
      if (!codec) throw new UserError('TJU_CODEC_KEYS is not set: the codec server decrypts with those keys');
      if (!codecToken && !isLoopback(flags.host)) {
        throw new UserError(`--host ${flags.host} would decrypt for whoever reaches it: set TJU_CODEC_TOKEN first`);
      }
      const allowOrigins = flags.allowOrigin ?? [WEB_UI_ORIGIN];
      const server = createCodecServer(codec, { allowOrigins, token: codecToken });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => reject(cannotListen(flags.host, flags.port, err)));
        server.listen(flags.port, flags.host, resolve);
      });
      const guard = codecToken ? 'bearer token required' : 'no token: loopback only';
      console.log(`codec server on http://${flags.host}:${flags.port} (allowing ${allowOrigins.join(', ')}; ${guard}); Ctrl-C stops it`);
      await untilSignalled(server);
    });
}
