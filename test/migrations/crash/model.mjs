/**
 * The models of the migration crash test, shared by the test and its child process. Version 1
 * stores `label` (indexed) and `n`; version 2 renames label to title (upper-cased, indexed by
 * words), doubles n, and drops objects whose n is a multiple of 7.
 */
export function defineItemV1(lib) {
  const { Model, Property, Index, Types, StoredObject } = lib
  class Item extends StoredObject {}
  Property(Types.STRING)(Item.prototype, 'label')
  Index()(Item.prototype, 'label')
  Property(Types.INTEGER)(Item.prototype, 'n')
  return Model({ collection: 'items' })(Item)
}

export function defineItemV2(lib) {
  const { Model, Property, Types, StoredObject } = lib
  class Item extends StoredObject {}
  Property(Types.STRING)(Item.prototype, 'title')
  Property(Types.INTEGER)(Item.prototype, 'n')
  return Model({
    collection: 'items',
    version: 2,
    migrations: { 2: migrateToV2 },
    indexes: { words: { fn: titleWords, version: 1 } },
  })(Item)
}

export function migrateToV2(old) {
  if (old.n % 7 === 0) return undefined
  return { title: String(old.label).toUpperCase(), n: old.n * 2 }
}

export function titleWords(item) {
  return typeof item.title === 'string' ? item.title.split(' ') : undefined
}
