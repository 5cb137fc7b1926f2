/**
 * Turning request JSON into note properties. Stowage validates the values themselves (types, a
 * URL, a list of single-line tags) when the note is saved; this only picks the fields a client may
 * set and checks what the model's types cannot say (a non-empty title, sizes).
 */
import { badRequest, invalid, type FieldError } from './http/http-error.js'
import { normalizeTags } from './models.js'

export const CREATE_FIELDS = ['title', 'body', 'tags', 'url', 'created'] as const
export const UPDATE_FIELDS = ['title', 'body', 'tags', 'url'] as const

const MAX_TITLE = 500
const MAX_TAGS = 50

export function noteProps(input: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const unknown = Object.keys(input).filter((key) => !fields.includes(key))
  if (unknown.length > 0) throw badRequest(`Unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; a note takes ${fields.join(', ')}`)
  const props: Record<string, unknown> = {}
  for (const key of fields) {
    if (!(key in input)) continue
    // JSON has no undefined: null clears an optional field (and fails a required one).
    props[key] = input[key] === null ? undefined : input[key]
  }
  if (typeof props.created === 'string') {
    const time = Date.parse(props.created)
    // An unparsable string is left as it is: the DATE type refuses it with a clear reason.
    if (!Number.isNaN(time)) props.created = new Date(time)
  }
  if (Array.isArray(props.tags)) props.tags = normalizeTags(props.tags)

  // Stowage has no length constraints on strings (yet): checked here, reported like its own errors.
  const errors: FieldError[] = []
  if (typeof props.title === 'string' && props.title.trim() === '') errors.push({ property: 'title', value: props.title, reason: 'must not be empty' })
  if (typeof props.title === 'string' && props.title.length > MAX_TITLE) {
    errors.push({ property: 'title', value: `${props.title.slice(0, 40)}…`, reason: `longer than ${MAX_TITLE} characters` })
  }
  if (Array.isArray(props.tags) && props.tags.length > MAX_TAGS) errors.push({ property: 'tags', value: props.tags.length, reason: `more than ${MAX_TAGS} tags` })
  if (Array.isArray(props.tags) && props.tags.some((t) => t === '')) errors.push({ property: 'tags', value: props.tags, reason: 'a tag must not be empty' })
  if (errors.length > 0) throw invalid(errors)
  return props
}
