export { SettingsPage } from './components/SettingsPage'
export { usePreferences } from './api/preferences'
export { useUpdatePreferences } from './api/preferences'
