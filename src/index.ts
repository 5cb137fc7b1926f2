import 'reflect-metadata'
import './model/standard-decorators.js'
export { Types, isType, type Type } from './types/types.js'
export * from './errors.js'
export {
  Engine,
  MAX_NAME_BYTES,
  type DamagedRecord,
  type EngineStatus,
  type EngineSupports,
  type EntryOp,
  type ExternalChange,
  type Range,
  type RawOp,
  type ReadRawOptions,
  type RecordOp,
  type Source,
  type StagedRaw,
  type StageRawOptions,
  type WriteOp,
} from './engine/engine.js'
export { Database, type ChangeStreamOptions, type DatabaseOptions, type IndexProgress } from './model/database.js'
export { StoredObject, type Props, type ModelClass, type ListOptions } from './model/stored-object.js'
export { Model, Property, type FieldDecorator, type PropertyOptions } from './model/decorators.js'
export { Relation, One, Many, type ManyPageOptions } from './relations/index.js'
export type { RelationTarget } from './relations/relation-decorator.js'
export { StoredRaw, type RawMeta } from './raw/stored-raw.js'
export type { RawInput } from './raw/sources.js'
export { defineModel, type ModelOptions, type PropertySpec, type IndexSpec } from './model/define-model.js'
export type { Exported, ExportOptions } from './model/export-import.js'
export { isOid } from './model/oid.js'
export { Index, type IndexOptions } from './indexes/index-decorator.js'
export { Indexing } from './indexes/indexing.js'
export { IndexView, IndexResults, type IndexDuplicate, type IndexListOptions } from './indexes/index-view.js'
export { ChangeStream } from './changes/change-stream.js'
export { LiveQuery } from './changes/live-query.js'
export type { ChangeEvent, ObjectChange } from './changes/change-event.js'
export type { Observer, Subscription } from './changes/observable.js'
export { Query } from './query/query.js'
export type { MigrationContext, MigrationFn } from './migrations/versioning.js'
export type { MigrationProgress } from './migrations/migrator.js'
export type { Condition, FindOptions, QueryExplanation, QueryWork, RangeCondition, SortDirection, Where } from './query/query-types.js'
export { DirectoryEngine, type DirectoryEngineOptions } from './engine/directory/directory-engine.js'
export { LevelEngine, type LevelEngineOptions } from './engine/level/level-engine.js'
export { MemoryEngine } from './engine/memory/memory-engine.js'
export { LmdbEngine, type LmdbEngineOptions, type LmdbInspector } from './engine/lmdb/lmdb-engine.js'
export { PostgresEngine, type PostgresEngineOptions, type PostgresPool } from './engine/postgres/postgres-engine.js'
export { assertEncodable } from './engine/plain-data.js'
export { EncryptedEngine } from './crypto/encrypted-engine.js'
export { CompressedEngine, type Compression } from './compression/compressed-engine.js'
export { WrappedEngine, type StoredRange } from './engine/wrapped-engine.js'
export type { EngineSnapshot } from './engine/engine.js'
export { dump, dumpToFile, type DumpOptions } from './tools/dump.js'
export { readDump, checkDump } from './tools/dump-reader.js'
export type { DumpItem, DumpSource, RawDigest } from './tools/dump-items.js'
export type { DumpCounts, DumpProgress, DumpSummary } from './tools/dump-writer.js'
export { DUMP_FORMAT, DUMP_VERSION } from './tools/dump-format.js'
export { restore, restoreToPath, copy, copyToPath, type DumpInput, type RestoreOptions, type StorePathOptions } from './tools/restore-store.js'
export { isEmpty } from './tools/restore.js'
export { DumpError, NotEmptyError } from './tools/errors.js'
export { detectKind, type EngineKind } from './tools/store-path.js'
export type { StoreStats, CollectionStats, IndexStats } from './tools/stats.js'
export type { VerifyOptions, VerifyProgress, VerifyReport } from './tools/verify.js'
export type { Problem, ProblemKind } from './tools/problems.js'
export type { BackupSummary } from './tools/backup.js'
