// The engines the SIGKILL tests run on, by kind: classes the package exports, so that the tests
// and their child processes (which load a build of the package) make the same engine.
export const CRASH_ENGINES = { level: 'LevelEngine', directory: 'DirectoryEngine', lmdb: 'LmdbEngine' }

export function crashEngine(lib, kind, location) {
  const name = CRASH_ENGINES[kind]
  if (name === undefined) throw new Error(`no engine of kind ${kind}`)
  return new lib[name](location)
}
