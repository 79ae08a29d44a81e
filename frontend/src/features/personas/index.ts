// What other features use; the router imports the personas page's own module.
export { usePersonas, type Persona } from './api/personas'
