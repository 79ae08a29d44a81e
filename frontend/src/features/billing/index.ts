// What other features use; the router imports the Subscribe page's own module.
export { CheckoutReturn } from './components/CheckoutReturn'
export { useBillingStatus, useOpenPortal, createCheckoutSession } from './api/billing'
