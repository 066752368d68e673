#!/usr/bin/env node
require('../dist/src/cli/main')
  .main(process.argv)
  .then((code) => process.exit(code));
