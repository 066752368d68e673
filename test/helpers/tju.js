#!/usr/bin/env node
// The `tju` CLI run from source with the reference batch and the test batches, for tests that need a
// worker process of their own to kill. TypeScript loads through jiti, as an app's config does.
const { createJiti } = require('jiti');

const jiti = createJiti(__filename);
const { main } = jiti('../../src/cli/main.ts');
const { issueInvoices } = jiti('../../batches/billing/issue-invoices/index.ts');
const { testBatches } = jiti('../fixtures/batches.ts');

main(process.argv, [issueInvoices, ...testBatches]).then((code) => process.exit(code));
