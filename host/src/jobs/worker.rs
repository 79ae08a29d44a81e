//! `ava worker`: runs job-handler plugins off the queue.
