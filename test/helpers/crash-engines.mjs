// The engines the SIGKILL tests run on, by kind: classes the package exports, so that the tests
// and their child processes (which load a build of the package) make the same engine.
export const CRASH_ENGINES = { level: 'LevelEngine', directory: 'DirectoryEngine', lmdb: 'LmdbEngine' }

/** The same engines encrypted (EncryptedEngine), for the crash tests that also run with encryption on. */
export const ENCRYPTED_CRASH_KINDS = ['level+encrypted', 'directory+encrypted', 'lmdb+encrypted']

/** The crash tests' key, and their index names kept in order so that they can compare index keys. */
const KEY = 'crash test passphrase'
const ORDERED = ['items.name', 'items.tags', 'items.code', 'items.n', 'items.words']

export function crashEngine(lib, kind, location) {
  const [base, encrypted] = kind.split('+')
  const name = CRASH_ENGINES[base]
  if (name === undefined || (encrypted !== undefined && encrypted !== 'encrypted')) throw new Error(`no engine of kind ${kind}`)
  const engine = new lib[name](location)
  return encrypted === undefined ? engine : new lib.EncryptedEngine(engine, KEY, { ordered: ORDERED })
}
