//! Photos: the store job handlers complete photos through, the image files, and the live
//! updates the SPA listens to.

pub mod events;
pub mod redis_bus;
