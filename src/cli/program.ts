import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import { ENGINE_KINDS } from '../tools/store-path.js'
import { compact, reindex, verify } from './commands/check.js'
import { get, info, ls, stats } from './commands/inspect.js'
import { query } from './commands/query.js'
import { backup, copy, dump, restore } from './commands/transfer.js'

const EXIT_CODES = `
Exit codes:
  0  done (verify: no problem left)
  1  problems found (verify), or no such object (get)
  2  bad usage: unknown command or option, missing or malformed argument
  3  the store cannot be used: missing, not a store, locked by another process, damaged
  4  refused: a truncated or tampered dump, or a target store that holds data (without --merge)

<store> is a path whose engine is recognised from its files: a LevelDB directory (CURRENT,
MANIFEST...), an LMDB data file, or a Directory store (.stowage/index).`

function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('give a positive integer')
  return n
}

function nonNegativeInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('give a non-negative integer')
  return n
}

const json = () => new Option('--json', 'print JSON for scripts')
const models = () => new Option('--models <module>', 'a module exporting the model classes (for validation and index functions)')
const engine = () => new Option('--engine <kind>', 'the engine of a new target store').choices(ENGINE_KINDS as string[])

function version(): string {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
    if (pkg.name === 'stowage') return pkg.version ?? 'unknown'
  }
  return 'unknown'
}

/**
 * The `stowage` command: `stowage <command> <store> [args]`. Each action resolves to its exit code,
 * which `run` gets back through `done`.
 */
export function program(done: (code: number) => void): Command {
  const p = new Command('stowage')
    .description('Inspect, check, repair, back up and move Stowage stores.')
    .version(version())
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES)
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) =>
      done(await fn(...args))

  p.command('info').description('the engine, collections and object counts of a store').argument('<store>').addOption(json()).action(act(info))
  p.command('stats')
    .description('per collection: objects, approximate bytes, index entries and distinct keys, links, raw data')
    .argument('<store>')
    .addOption(models())
    .addOption(json())
    .action(act(stats))
  p.command('ls')
    .description("the ids of a collection's objects, in order")
    .argument('<store>')
    .argument('<collection>')
    .option('--limit <n>', 'at most n ids', positiveInt)
    .option('--after <id>', 'start after this id')
    .addOption(json())
    .action(act(ls))
  p.command('get').description('the stored record of one object, as JSON').argument('<store>').argument('<collection>').argument('<oid>').addOption(json()).action(act(get))
  p.command('query')
    .description(
      "objects by index and key or range; with --models, the query API (Model.find(): --where, --or, --order, --offset, --limit); without, the index's entries as stored",
    )
    .argument('<store>')
    .argument('<collection>')
    .argument('[index]', 'an index (or, with --models, an index or property)')
    .argument('[key|range]', 'a key (text, or JSON: 42, true, "42", {"$date":"..."}) or low..high, inclusive, either end left out')
    .addOption(models())
    .option('--where <json>', 'with --models: find() conditions, e.g. \'{"status":"published","score":{"gte":10}}\'')
    .option('--or <json>', 'with --models: an array of conditions objects, one of which must hold')
    .option('--order <name[:desc]>', 'with --models: sort by an index or property, asc (default) or desc')
    .option('--offset <n>', 'with --models: skip n results first', nonNegativeInt)
    .option('--limit <n>', 'at most n results', positiveInt)
    .option('--explain', "with --models: print the query's plan instead of its results")
    .addOption(json())
    .action(act(query))
  p.command('verify')
    .description('check index entries, links, raw data and records against each other (and the models)')
    .argument('<store>')
    .option('--repair', 'fix what can be derived: rebuild indexes, put reverse links right')
    .addOption(models())
    .addOption(json())
    .action(act(verify))
  p.command('reindex').description("rebuild every index from the stored objects (needs --models)").argument('<store>').addOption(models()).addOption(json()).action(act(reindex))
  p.command('compact').description('give back the space of deleted data (LevelDB)').argument('<store>').addOption(json()).action(act(compact))
  p.command('backup')
    .description('a consistent dump of the store to a file (written under a temporary name, renamed when complete) or into a directory')
    .argument('<store>')
    .argument('<target>')
    .addOption(json())
    .action(act(backup))
  p.command('dump')
    .description('a dump of the store (versioned JSON lines) to a file, or to stdout')
    .argument('<store>')
    .argument('[file]', 'the file to write (default: stdout)')
    .addOption(json())
    .action(act(dump))
  p.command('restore')
    .description('a dump into a new store (removed if the dump is bad), or into an existing one with --merge (checked first)')
    .argument('<dump>', 'the dump file, or - for stdin')
    .argument('<store>')
    .addOption(engine())
    .option('--merge', 'write into a store that holds data')
    .addOption(json())
    .action(act(restore))
  p.command('copy')
    .description('every object, link and raw data into another store, of any engine; indexes rebuild at first use')
    .argument('<store>')
    .argument('<target>')
    .addOption(engine())
    .option('--merge', 'write into a store that holds data')
    .option('--encrypt', 'encrypt the target with the passphrase in the environment variable STOWAGE_NEW_KEY')
    .option('--ordered <indexes>', "with --encrypt: the indexes ('collection.index', comma-separated) whose keys stay in order, in the clear")
    .option('--decrypt', 'write an encrypted store (opened with STOWAGE_KEY) into a plain target')
    .addOption(new Option('--compression <kind>', 'compress the target').choices(['brotli', 'gzip']))
    .addOption(json())
    .action(act(copy))
  return p
}
