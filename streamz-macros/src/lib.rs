//! Derive macros for streamz.
