import {
  ArgumentError,
  ClosedError,
  ConstraintError,
  EncodingError,
  InvalidKeyError,
  NotFoundError,
  StowageError,
  ValidationError,
} from '../../../src/index.js'
import { HttpError, type FieldError } from './http-error.js'

export interface ErrorResponse {
  status: number
  body: { error: string; code: string; errors?: FieldError[] }
  headers?: Record<string, string>
}

/**
 * The HTTP answer for an error thrown while handling a request. Stowage's errors carry a stable
 * `code`, so they map to statuses without parsing messages. Anything unexpected is a 500 whose
 * details go to the log, not to the client.
 */
export function errorResponse(err: unknown, log: (message: string, err: unknown) => void): ErrorResponse {
  if (err instanceof HttpError) {
    return { status: err.status, body: { error: err.message, code: err.code, ...(err.extra.errors ? { errors: err.extra.errors } : {}) }, headers: err.extra.headers }
  }
  if (err instanceof ValidationError) return { status: 400, body: { error: err.message, code: err.code, errors: err.errors } }
  if (err instanceof ConstraintError) return { status: 409, body: { error: err.message, code: err.code } }
  if (err instanceof NotFoundError) return { status: 404, body: { error: err.message, code: err.code } }
  if (err instanceof ArgumentError || err instanceof EncodingError || err instanceof InvalidKeyError) {
    return { status: 400, body: { error: err.message, code: err.code } }
  }
  if (err instanceof ClosedError) return { status: 503, body: { error: 'The service is shutting down', code: err.code } }
  log('Unexpected error while handling a request', err)
  const code = err instanceof StowageError ? err.code : 'INTERNAL'
  return { status: 500, body: { error: 'Internal server error', code } }
}
