import { fieldError, isStatus, messageOf } from '@/lib/api/errors'

/**
 * Where each failure of a login or sign-up shows: a 422 at its field (when the form has
 * it), a 409 at the email, a 429 in the rate-limit notice, anything else above the button.
 */
export function formErrors<F extends string>(error: unknown, fields: readonly F[]) {
  const at = {} as Partial<Record<F, string>>
  let general: string | undefined
  if (!error) return { at, general, taken: false }
  const taken = isStatus(error, 409)
  if (taken) {
    at['email' as F] = messageOf(error)
  } else if (isStatus(error, 422) && error.field && fields.includes(error.field as F)) {
    at[error.field as F] = fieldError(error, error.field)
  } else if (!isStatus(error, 429)) {
    general = messageOf(error)
  }
  return { at, general, taken }
}
