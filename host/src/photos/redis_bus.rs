//! Photo events across processes through Redis pub/sub.
