// The shop's tju config: `tju --config examples/post-purchase/tju.config.ts <command>`.
import { defineConfig } from 'tju';
import { batches } from './batches';

export default defineConfig({
  batches,
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/tju_shop',
});
