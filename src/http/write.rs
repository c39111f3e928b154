//! Serialising heads.
