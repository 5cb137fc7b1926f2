/**
 * The model of the crash test, shared by the test and its child process so that both see the same
 * index definitions (same function texts, so the same signatures: no rebuild masks a bad index).
 */
export function defineItem(lib) {
  const { Model, Property, Index, Indexing, Types, StoredObject } = lib
  class Item extends StoredObject {}
  const p = Item.prototype
  Property(Types.STRING)(p, 'name')
  Index(Indexing.normalize)(p, 'name')
  Property(Types.LIST(Types.STRING))(p, 'tags')
  Index()(p, 'tags')
  Property(Types.STRING)(p, 'code')
  Index(Indexing.value, { unique: true })(p, 'code')
  Property(Types.INTEGER)(p, 'n')
  Index()(p, 'n')
  Property(Types.STRING)(p, 'title')
  return Model({ collection: 'items', indexes: { words: titleWords } })(Item)
}

export function titleWords(item) {
  return typeof item.title === 'string' ? item.title.split(' ').filter((w) => w !== '') : undefined
}

/** The stored state of an item the test compares. */
export function stateOf(props) {
  return { name: props.name, tags: props.tags, code: props.code, n: props.n, title: props.title }
}
