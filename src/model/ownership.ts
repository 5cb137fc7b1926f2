import { STATE, type ObjectState } from './object-state.js'
import type { StoredObject } from './stored-object.js'
import { running, transactionOf, type MemberUndo, type Transaction } from './transaction.js'

/**
 * Who a change to a shared live instance belongs to (the README's consistency model).
 *
 * A member of a stored object (a property, a relation, its raw metadata or data) changed inside a
 * running transaction belongs to that transaction until it ends: its commit writes it, its failure
 * puts it back, and every other write (a plain save, another transaction) writes the stored value
 * instead and leaves the change on the instance. A change made outside any transaction belongs to
 * nobody: the next write of the object, whoever makes it, writes it. When a second transaction
 * changes a member the first one owns, it takes the member over with the first one's change (an
 * instance holds one value per member), so its commit writes both and its failure undoes both.
 */

/** Raw metadata and raw data, as members (no property or relation can have these names). */
export const META_MEMBER = '\0meta'
export const DATA_MEMBER = '\0data'

/**
 * Whether a change to this instance may need claiming: a transaction runs or one owns a member, and
 * the object is stored (a new one has nothing another writer could lose). Checked before `claim`,
 * so that the common case makes no undo closure.
 */
export function mayClaim(state: ObjectState): boolean {
  return (state.owners !== undefined || running.count > 0) && state.record !== undefined
}

/**
 * Called just before `member` of obj changes, when `mayClaim`. `undo` captures what is there now
 * and returns how to put it back; it is only called when a transaction takes the member.
 */
export function claim(obj: StoredObject, member: string, undo: () => MemberUndo): void {
  const state = obj[STATE]
  const tx = transactionOf(state.meta.db)
  const owner = state.owners?.get(member) as Transaction | undefined
  if (owner === tx) return
  if (tx === undefined) {
    release(state, member)
    return
  }
  let taken: MemberUndo | undefined
  if (owner !== undefined) {
    const members = owner.undo.get(obj)
    taken = members?.get(member)
    members?.delete(member)
    tx.save(obj) // the earlier transaction's change is now this one's to write, even if it changes nothing itself
  }
  ;(state.owners ??= new Map()).set(member, tx)
  let members = tx.undo.get(obj)
  if (members === undefined) tx.undo.set(obj, (members = new Map()))
  members.set(member, taken ?? undo())
}

/** A property is about to be assigned (when `mayClaim`). */
export function claimProperty(obj: StoredObject, name: string): void {
  claim(obj, name, () => {
    const before = obj[STATE].values[name]
    return () => {
      obj[STATE].values[name] = before // the values object itself may have been replaced since (revert)
    }
  })
}

function release(state: ObjectState, member: string): void {
  if (state.owners === undefined) return
  state.owners.delete(member)
  if (state.owners.size === 0) state.owners = undefined
}

/** The members of this object that a running transaction other than `writer` owns; undefined if none. */
export function foreignMembers(state: ObjectState, writer: object | undefined): Set<string> | undefined {
  if (state.owners === undefined) return undefined
  let out: Set<string> | undefined
  for (const [member, owner] of state.owners) if (owner !== writer) (out ??= new Set()).add(member)
  return out
}

/** Whether `member` belongs to a running transaction other than `writer`. */
export function isForeign(state: ObjectState, member: string, writer: object | undefined): boolean {
  const owner = state.owners?.get(member)
  return owner !== undefined && owner !== writer
}

/** The transaction committed: the members it owned are stored now and belong to nobody. */
export function releaseAll(state: ObjectState, tx: object): void {
  if (state.owners === undefined) return
  for (const [member, owner] of state.owners) if (owner === tx) state.owners.delete(member)
  if (state.owners.size === 0) state.owners = undefined
}

/** The transaction failed: every member it still owns goes back as it was before it. Returns the objects touched. */
export function undoAll(tx: Transaction): StoredObject[] {
  const touched: StoredObject[] = []
  for (const [obj, members] of tx.undo) {
    const state = obj[STATE]
    for (const [member, undo] of members) {
      if (state.owners?.get(member) !== tx) continue
      undo()
      release(state, member)
    }
    touched.push(obj)
  }
  tx.undo.clear()
  return touched
}
