import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { CliApp } from '../app';
import type { PayloadCodec } from '@temporalio/common';
import type { AddressInfo } from 'node:net';
import { createCodecServer } from '../../temporal/codecServer';
import { ensureTemporalCli } from '../../temporal/devServer';

/**
 * `tju temporal <args>`: Temporal's own CLI (found on PATH or the one tju built into its cache), pointed at
 * the server and namespace tju is configured for — and, when TJU_CODEC_KEYS is set, at a codec server of its
 * own on loopback for as long as the command runs, so `workflow show` and `query` print payloads, not ciphertext.
 */
export function registerTemporal(program: Command, app: CliApp): void {
  program
    .command('temporal')
    .description("run Temporal's CLI against tju's server, e.g. tju temporal workflow list --query \"TjuBatch='…'\"")
    .argument('[args...]', 'arguments for temporal')
    .helpOption(false)
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (args: string[]) => {
      const config = app.config;
      const binary = ensureTemporalCli();
      const codec = config.temporal.codec ? await startCodecServer(config.temporal.codec) : undefined;
      try {
        const child = spawn(binary, args, {
          stdio: 'inherit',
          // The temporal CLI reads these itself; flags given in `args` still win.
          env: {
            ...process.env,
            TEMPORAL_ADDRESS: config.temporal.address,
            TEMPORAL_NAMESPACE: config.temporal.namespace,
            ...(codec ? { TEMPORAL_CODEC_ENDPOINT: codec.url, TEMPORAL_CODEC_AUTH: `Bearer ${codec.token}` } : {}),
          },
        });
        // Stopping tju stops Temporal's CLI too (a dev server started through it must not outlive it).
        const forward = (signal: NodeJS.Signals) => child.kill(signal);
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, forward);
        process.exitCode = await new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, forward);
      } finally {
        await codec?.close();
      }
    });
}

/** A codec server on a free loopback port, for one command of Temporal's CLI. */
async function startCodecServer(codec: PayloadCodec): Promise<{ url: string; token: string; close(): Promise<void> }> {
  // A token of its own: another local user cannot have this one command's server decrypt for them.
  const token = randomBytes(32).toString('base64url');
  const server = createCodecServer(codec, { token });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, token, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
