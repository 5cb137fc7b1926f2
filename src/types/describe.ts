/** Short, readable previews of values and paths for validation reasons (only built on failure). */

const MAX_STRING = 40

export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_STRING ? value.slice(0, MAX_STRING) + '…' : value)
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return `${value}n`
    case 'boolean':
    case 'undefined':
      return String(value)
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
  }
  if (value === null) return 'null'
  if (value instanceof Date) {
    const time = value.getTime()
    return Number.isNaN(time) ? 'an invalid Date' : `Date ${value.toISOString()}`
  }
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length} bytes)`
  if (Array.isArray(value)) return `an array of ${value.length}`
  return withArticle(className(value as object))
}

/** `object` for plain objects, else the constructor's name (`Map`, `Account`...). */
export function className(value: object): string {
  const proto = Object.getPrototypeOf(value)
  if (proto === null || proto === Object.prototype) return 'object'
  const name = proto.constructor?.name
  return typeof name === 'string' && name ? name : 'object'
}

export function withArticle(noun: string): string {
  return (/^[aeio]/i.test(noun) ? 'an ' : 'a ') + noun
}

/** A key as written in a path or a reason: `city`, or quoted when not an identifier. */
export function describeKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)
}

/** `a.b[2].c` from path segments (numbers are array indexes). */
export function formatPath(path: readonly (string | number)[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part
    else out += `[${JSON.stringify(part)}]`
  }
  return out
}
