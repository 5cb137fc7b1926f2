import type { Engine } from '../../src/engine/engine.js'

export type CrashKind = 'level' | 'directory' | 'lmdb'
export const CRASH_ENGINES: Record<CrashKind, string>
export function crashEngine(lib: object, kind: CrashKind, location: string): Engine
