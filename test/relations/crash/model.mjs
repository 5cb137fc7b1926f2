/** The models of the relations crash test, shared by the test and its child process. */
export function defineModels(lib) {
  const { Model, Property, Relation, Types, StoredObject } = lib
  class Account extends StoredObject {}
  Property(Types.STRING)(Account.prototype, 'name')
  const A = Model({ collection: 'accounts' })(Account)
  class Comment extends StoredObject {}
  Property(Types.INTEGER)(Comment.prototype, 'n')
  Relation(() => A)(Comment.prototype, 'author')
  let C
  Relation(() => [C])(Comment.prototype, 'replies')
  C = Model({ collection: 'comments' })(Comment)
  return { Account: A, Comment: C }
}
