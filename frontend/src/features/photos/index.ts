export { GalleryPage } from './components/GalleryPage'
export { usePhotoEvents } from './hooks/usePhotoEvents'
export { applyPhoto, type Photo } from './api/photos'
