export { SubscribePage } from './components/SubscribePage'
export { CheckoutReturn } from './components/CheckoutReturn'
export { useBillingStatus, useOpenPortal, createCheckoutSession } from './api/billing'
