import type { Command } from 'commander';
import type { CliApp } from '../app';
import { UserError } from '../../errors';
import { createCodecServer } from '../../temporal/codecServer';
import { port } from '../parsers';
import { cannotListen, untilSignalled } from '../serve';

export function registerCodecServer(program: Command, app: CliApp): void {
  program
    .command('codec-server')
    .description('decrypt payloads for the Web UI and `temporal --codec-endpoint`, with the keys of TJU_CODEC_KEYS')
    .option('--port <port>', 'port to listen on', port, 8888)
    .option('--host <host>', 'address to listen on; it decrypts for whoever reaches it', '127.0.0.1')
    .option('--allow-origin <url>', "the Web UI's origin, for browsers (CORS)", 'http://localhost:8233')
    .action(async (flags: { port: number; host: string; allowOrigin: string }) => {
      const codec = app.config.temporal.codec;
      if (!codec) throw new UserError('TJU_CODEC_KEYS is not set: the codec server decrypts with those keys');
      const server = createCodecServer(codec, { allowOrigin: flags.allowOrigin });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => reject(cannotListen(flags.host, flags.port, err)));
        server.listen(flags.port, flags.host, resolve);
      });
      console.log(`codec server on http://${flags.host}:${flags.port} (allowing ${flags.allowOrigin}); Ctrl-C stops it`);
      await untilSignalled(server);
    });
}
