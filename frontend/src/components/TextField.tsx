import { useId, type InputHTMLAttributes, type TextareaHTMLAttributes } from 'react'

interface FieldProps {
  label: string
  /** The API's message for this field (a 422), shown under it and tied to it for readers. */
  error?: string | undefined
  hint?: string
}

const inputClass =
  'w-full rounded-xl border bg-gray-900 px-3 py-2.5 text-sm text-gray-100 placeholder:text-gray-500 focus:border-purple-500 focus:outline-none'

export function TextField({
  label,
  error,
  hint,
  className = '',
  ...rest
}: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId()
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined
  return (
    <div className={`space-y-1 ${className}`}>
      <label htmlFor={id} className="block text-sm font-medium text-gray-300">
        {label}
      </label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={`${inputClass} ${error ? 'border-red-500' : 'border-gray-700'}`}
        {...rest}
      />
      <FieldNote id={id} error={error} hint={hint} />
    </div>
  )
}

export function TextArea({
  label,
  error,
  hint,
  className = '',
  ...rest
}: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId()
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined
  return (
    <div className={`space-y-1 ${className}`}>
      <label htmlFor={id} className="block text-sm font-medium text-gray-300">
        {label}
      </label>
      <textarea
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={`${inputClass} min-h-24 ${error ? 'border-red-500' : 'border-gray-700'}`}
        {...rest}
      />
      <FieldNote id={id} error={error} hint={hint} />
    </div>
  )
}

function FieldNote({ id, error, hint }: { id: string; error?: string | undefined; hint?: string }) {
  if (error) {
    return (
      <p id={`${id}-error`} className="text-xs text-red-400">
        {error}
      </p>
    )
  }
  if (hint) {
    return (
      <p id={`${id}-hint`} className="text-xs text-gray-500">
        {hint}
      </p>
    )
  }
  return null
}
