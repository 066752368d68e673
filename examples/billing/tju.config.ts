// The billing app's tju config: `tju --config examples/billing/tju.config.ts <command>` (or run `tju` in this folder).
import { defineConfig } from 'tju';
import { batches } from './batches';

export default defineConfig({
  batches,
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/tju_billing',
});
