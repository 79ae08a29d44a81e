export { PersonasPage } from './components/PersonasPage'
export { usePersonas, type Persona } from './api/personas'
