//! STAGE route: host → group, path → API (behaviour.md §4.1, §6.3–§6.7).

pub mod path;
mod template;
