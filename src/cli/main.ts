#!/usr/bin/env node
import { CommanderError } from 'commander'
import { exitCodeOf } from './exit-codes.js'
import { program } from './program.js'

let code = 0
try {
  await program((c) => (code = c)).parseAsync(process.argv)
} catch (err) {
  code = exitCodeOf(err)
  // Commander has printed its own message (and help) already.
  if (!(err instanceof CommanderError)) process.stderr.write(`stowage: ${(err as Error)?.message ?? String(err)}\n`)
}
process.exitCode = code
