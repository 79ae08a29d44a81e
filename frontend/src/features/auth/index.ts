// What other features use. Pages are not exported here: the router imports each page's own
// module, so a page's chunk loads only on its route.
export { useLogout } from './api/logout'
export { useMe } from './api/auth'
