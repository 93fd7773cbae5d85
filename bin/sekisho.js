#!/usr/bin/env node
// The `sekisho` ops CLI launcher (`npx sekisho …` from the repo). The CLI is TypeScript run through
// tsx, registered in this process so exit codes, stdin and signals behave as for any command.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../src/cli/main.ts', import.meta.url).href);
