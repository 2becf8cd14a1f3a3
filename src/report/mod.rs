//! Reports: each reads the [`crate::Analysis`] and has its own wire types.

pub mod github;
pub mod graph;
pub mod human;
pub mod json;
pub mod reach_words;
pub mod sarif;
