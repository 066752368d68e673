// The billing app's own command line: tju's commands for its batches, plus the app's `setup` and `demo`. An
// app that owns its entry point runs tju this way (like Laravel's artisan); others run `tju` with a config.
import { runCli } from 'tju';
import { billingCommands } from './commands';
import config from './tju.config';

void runCli(process.argv, config, { extend: billingCommands }).then((code) => process.exit(code));
