/** One failing field, in the shape of Stowage's `ValidationError.errors`. */
export interface FieldError {
  property: string
  value: unknown
  reason: string
}

/** An error the service answers with on purpose: an HTTP status and a stable `code`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

export const notFound = (what: string): HttpError => new HttpError(404, 'NOT_FOUND', `${what} not found`)
export const badRequest = (message: string): HttpError => new HttpError(400, 'BAD_REQUEST', message)
export const invalid = (errors: FieldError[]): HttpError =>
  new HttpError(400, 'VALIDATION', `Invalid input: ${errors.map((e) => `${e.property}: ${e.reason}`).join('; ')}`, { errors })
