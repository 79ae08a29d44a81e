export { LoginPage } from './components/LoginPage'
export { SignupPage } from './components/SignupPage'
export { useLogout } from './api/logout'
export { useMe } from './api/auth'
