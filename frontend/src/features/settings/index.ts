// What other features use; the router imports the settings page's own module.
export { usePreferences, useUpdatePreferences } from './api/preferences'
