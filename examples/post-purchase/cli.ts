// The shop's own command line: tju's commands for its batches, plus `setup`, `shipping-service` and `demo`.
import { runCli } from 'tju';
import { shopCommands } from './commands';
import config from './tju.config';

void runCli(process.argv, config, { extend: shopCommands }).then((code) => process.exit(code));
