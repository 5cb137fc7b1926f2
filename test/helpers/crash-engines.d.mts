import type { Engine } from '../../src/engine/engine.js'

export type CrashKind = 'level' | 'directory' | 'lmdb'
export type EncryptedCrashKind = `${CrashKind}+encrypted`
export const CRASH_ENGINES: Record<CrashKind, string>
export const ENCRYPTED_CRASH_KINDS: EncryptedCrashKind[]
export function crashEngine(lib: object, kind: CrashKind | EncryptedCrashKind, location: string): Engine
