/** Relations: `@Relation`, the `One` and `Many` handles, and the feature writing their links. */
import './relation-export.js'
export { Relation, handleOf } from './relation-decorator.js'
export { One } from './one.js'
export { Many, type ManyPageOptions } from './many.js'
export { RelationFeature } from './relation-feature.js'
