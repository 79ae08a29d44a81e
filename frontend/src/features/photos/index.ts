// What other features use; the router imports the gallery's own module.
export { usePhotoEvents } from './hooks/usePhotoEvents'
export { applyPhoto, type Photo } from './api/photos'
