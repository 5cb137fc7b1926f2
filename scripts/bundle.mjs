/**
 * Bundles the compiled package (dist/src, from tsc) into dist/lib: one file per entry point (the
 * library, stowage/testing, the CLI) and chunks they share, so that each class exists once.
 * Loading one file instead of some 160 modules halves the import time and takes less memory
 * (measured: bench/RESULTS.md, "The package as one bundle"). Dependencies stay external, loaded
 * from node_modules. No keepNames: it wraps every function made at run time in a call that defines
 * its `name`, which cost find() about a fifth of its time; exported classes keep their names without
 * it (test/packaging/consumers.test.ts checks them).
 */
import { build } from 'esbuild'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// fileURLToPath, not the URL's pathname: a checkout under a path with spaces (or on Windows) must build too.
const root = fileURLToPath(new URL('..', import.meta.url))
const outdir = join(root, 'dist', 'lib')
rmSync(outdir, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints: { index: 'dist/src/index.js', testing: 'dist/src/testing/index.js', cli: 'dist/src/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: false,
  logLevel: 'warning',
})
