#!/usr/bin/env node
'use strict';
// The CLI is TypeScript run through tsx, so no build step stands between a clone and `npx skywhisk`.
require('tsx/cjs/api').register();
require('../lib/cli/main.ts').runCli(process.argv);
