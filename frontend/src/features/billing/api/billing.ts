import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { api, unwrap } from '@/lib/api/client'
import { isStatus } from '@/lib/api/errors'
import type { components } from '@/lib/api/schema'
import { billingKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'
import { newIdempotencyKey } from '../lib/idempotencyKey'

export type BillingStatus = components['schemas']['BillingStatus']
export type CheckoutSession = components['schemas']['CheckoutSession']
export type PortalSession = components['schemas']['PortalSession']

/**
 * `POST /billing/checkout` → `{checkout_url}`, where the caller sends the user with
 * `window.location.assign`. `idempotencyKey` names one Subscribe attempt: a retry of the
 * same attempt sends the same key and lands on the same checkout, never a second one.
 */
export function createCheckoutSession(
  idempotencyKey: string = newIdempotencyKey(),
): Promise<CheckoutSession> {
  return unwrap(
    api.POST('/billing/checkout', { params: { header: { 'Idempotency-Key': idempotencyKey } } }),
  )
}

/** `GET /billing/status`: the subscription and whether the portal can be opened. */
export function getBillingStatus(signal?: AbortSignal): Promise<BillingStatus> {
  return unwrap(api.GET('/billing/status', { signal }))
}

/** `POST /billing/portal` → `{portal_url}`; 409 before a first subscription. */
export function createPortalSession(): Promise<PortalSession> {
  return unwrap(api.POST('/billing/portal'))
}

/** The subscription's status, shared by every page that shows it. */
export function useBillingStatus() {
  const userId = useUserId()
  return useQuery({
    queryKey: billingKeys.status(userId),
    queryFn: ({ signal }) => getBillingStatus(signal),
  })
}

/** Starts a checkout and leaves for the provider's page. */
export function useCheckout() {
  const userId = useUserId()
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: createCheckoutSession,
    onSuccess: ({ checkout_url }) => window.location.assign(checkout_url),
    onError: (error) => {
      // Already subscribed: the status shown here is out of date.
      if (isStatus(error, 409)) {
        void queryClient.invalidateQueries({ queryKey: billingKeys.status(userId) })
      }
    },
  })
}

/** Opens the provider's portal, where the user manages or cancels the subscription. */
export function useOpenPortal() {
  return useMutation({
    mutationFn: createPortalSession,
    onSuccess: ({ portal_url }) => window.location.assign(portal_url),
  })
}
